"""Files written without their row (a worker killed mid-save) are swept once old enough."""

from __future__ import annotations

import datetime
import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from gallery.models import Image
from gallery.services import remove_orphan_files
from gallery.tasks import ORPHAN_GRACE, remove_orphan_image_files
from tests.factories import ImageFactory, png_bytes

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


def stored(name: str, *, age: datetime.timedelta = datetime.timedelta(0)) -> str:
    """A file in storage, its modification time ``age`` ago."""
    saved = default_storage.save(name, ContentFile(png_bytes()))
    then = time.time() - age.total_seconds()
    os.utime(Path(settings.MEDIA_ROOT) / saved, (then, then))
    return saved


def age(image: Image, by: datetime.timedelta) -> None:
    for name in (image.file.name, image.thumbnail.name):
        then = time.time() - by.total_seconds()
        os.utime(Path(settings.MEDIA_ROOT) / name, (then, then))


def test_an_old_file_no_image_names_is_removed(owner):
    kept = ImageFactory(owner=owner)
    age(kept, 2 * HOUR)
    orphan = stored(f"images/{owner.pk}/left-by-a-killed-worker.png", age=2 * HOUR)
    orphan_thumb = stored(f"thumbs/{owner.pk}/left-by-a-killed-worker.webp", age=2 * HOUR)

    removed = remove_orphan_files(HOUR)

    assert sorted(removed) == sorted([orphan, orphan_thumb])
    assert not default_storage.exists(orphan)
    assert not default_storage.exists(orphan_thumb)
    assert default_storage.exists(kept.file.name)
    assert default_storage.exists(kept.thumbnail.name)


def test_a_young_file_may_be_a_save_in_progress_and_stays(owner):
    young = stored(f"images/{owner.pk}/being-saved.png", age=datetime.timedelta(minutes=5))
    assert remove_orphan_files(HOUR) == []
    assert default_storage.exists(young)


def test_a_file_named_by_another_owners_row_stays(owner, outsider):
    # Paths keep the owner at creation; whoever's row names a file, it is not an orphan.
    image = ImageFactory(owner=owner)
    age(image, 2 * HOUR)
    Image.objects.filter(pk=image.pk).update(owner=outsider)
    assert remove_orphan_files(HOUR) == []
    assert default_storage.exists(image.file.name)


def test_folders_that_are_not_an_owners_are_left_alone(owner):
    foreign = stored("images/imported/someone-elses.png", age=2 * HOUR)
    elsewhere = stored("engine/results/x.png", age=2 * HOUR)
    assert remove_orphan_files(HOUR) == []
    assert default_storage.exists(foreign)
    assert default_storage.exists(elsewhere)


def test_an_empty_storage_is_fine():
    assert remove_orphan_files(HOUR) == []


def test_the_task_uses_its_grace_and_can_run_twice(owner):
    old = stored(f"images/{owner.pk}/old.png", age=ORPHAN_GRACE + HOUR)
    recent = stored(f"images/{owner.pk}/recent.png", age=ORPHAN_GRACE - HOUR)
    assert remove_orphan_image_files() == 1
    assert remove_orphan_image_files() == 0
    assert not default_storage.exists(old)
    assert default_storage.exists(recent)


def test_the_scheduler_runs_the_sweep():
    entry = settings.CELERY_BEAT_SCHEDULE["gallery-remove-orphan-files"]
    assert entry["task"] == remove_orphan_image_files.name
