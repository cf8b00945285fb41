from django.apps import AppConfig


class CreateConfig(AppConfig):
    name = "create"
    verbose_name = "Create"

    def ready(self) -> None:
        # Here, not at the top: the gallery's modules need the models loaded.
        from create.remake import image_actions_section
        from gallery.image_page import add_section

        add_section("create/image_actions.html", image_actions_section)
