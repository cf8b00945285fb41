from django.apps import AppConfig


class GalleryConfig(AppConfig):
    name = "gallery"
    verbose_name = "Gallery"

    def ready(self) -> None:
        # Connects the post_delete receiver that removes an image's files from storage.
        from gallery import signals  # noqa: F401
