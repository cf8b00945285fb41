# The prompt search on SQLite: an FTS5 trigram index kept by triggers (gallery/fts.py).
# SQLite only, and outside the models' state on purpose, like 0004's trigram indexes on
# PostgreSQL. gallery.apps re-creates the triggers after every migrate, since Django drops
# them whenever it rebuilds the images table.

from django.db import migrations


def create_index(apps, schema_editor):
    from gallery.fts import ensure_index

    ensure_index(schema_editor.connection)


def drop_index(apps, schema_editor):
    from gallery.fts import drop_index

    drop_index(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("gallery", "0004_gallery_search_indexes")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
