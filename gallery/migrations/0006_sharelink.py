# ShareLink moved here from the teams app (teams/migrations/0003_sharelink_moved_to_gallery.py):
# a change of the models' state only. The model keeps its table, teams_sharelink, and its rows.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('gallery', '0005_sqlite_prompt_search'),
        ('teams', '0003_sharelink_moved_to_gallery'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ShareLink',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('expires_at', models.DateTimeField()),
                        ('revoked_at', models.DateTimeField(blank=True, null=True)),
                        ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('image', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='share_links', to='gallery.image')),
                    ],
                    options={
                        'ordering': ['-created_at', '-id'],
                        'db_table': 'teams_sharelink',
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
