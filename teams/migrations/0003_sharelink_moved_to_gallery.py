# ShareLink is the gallery's now (gallery/migrations/0006_sharelink.py): only the models'
# state moves; the table and its rows stay as they are.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('teams', '0002_invites_and_share_links'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='ShareLink')],
            database_operations=[],
        ),
    ]
