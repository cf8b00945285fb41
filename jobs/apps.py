from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        # Connects the receiver that removes the engine's copy of a deleted image's result.
        from jobs import signals  # noqa: F401
