# The gallery's search indexes.
#
# The model filter: (owner|team, endpoint, -created_at, -id), one per part of the visible set.
#
# The prompt search on PostgreSQL: trigram indexes serve icontains.
# Django writes `prompt__icontains=w` as `UPPER("prompt"::text) LIKE UPPER('%w%')`: a GIN
# index of pg_trgm trigrams on UPPER(prompt) answers it without reading every row, so a word
# found in few prompts no longer costs a scan of the gallery (docs/performance.md).
#
# PostgreSQL only, and outside the models' state on purpose: SQLite has no such index (its
# search reads the visible rows in date order, one index per part of the visible set), and
# a GinIndex in Meta.indexes would be created on SQLite too, and fail there.

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

INDEXES = {
    "gallery_image_prompt_trgm": "prompt",
    "gallery_image_negative_prompt_trgm": "negative_prompt",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "gallery_image" '
            f'USING gin (UPPER("{column}"::text) gin_trgm_ops)'
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):

    dependencies = [
        ('gallery', '0003_collection_favourite_image_team_and_more'),
    ]

    operations = [
        # The model filter on each part of the visible set, in date order (every database).
        migrations.AddIndex(
            model_name='image',
            index=models.Index(fields=['owner', 'endpoint', '-created_at', '-id'], name='gallery_owner_model_idx'),
        ),
        migrations.AddIndex(
            model_name='image',
            index=models.Index(fields=['team', 'endpoint', '-created_at', '-id'], name='gallery_team_model_idx'),
        ),
        # CREATE EXTENSION IF NOT EXISTS pg_trgm; a no-op on other databases.
        TrigramExtension(),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
