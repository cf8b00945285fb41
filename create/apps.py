from django.apps import AppConfig


class CreateConfig(AppConfig):
    name = "create"
    verbose_name = "Create"
