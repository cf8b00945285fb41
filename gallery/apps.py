from django.apps import AppConfig
from django.db.models.signals import post_migrate


class GalleryConfig(AppConfig):
    name = "gallery"
    verbose_name = "Gallery"

    def ready(self) -> None:
        # Connects the post_delete receiver that removes an image's files from storage.
        from gallery import signals  # noqa: F401

        post_migrate.connect(_ensure_prompt_index, sender=self)


def _ensure_prompt_index(using: str = "default", **kwargs) -> None:
    """Django rebuilds a SQLite table when a migration alters it, which drops the prompt
    index's triggers: put them back after every migrate (gallery/fts.py)."""
    from django.db import connections

    from gallery.fts import ensure_index

    ensure_index(connections[using])
