"""Files leave storage with their image, however the image goes: no orphans."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.db import transaction

from gallery.models import Image
from tests.factories import ImageFactory, UserFactory

pytestmark = pytest.mark.django_db


def stored_names(*images: Image) -> list[str]:
    names = [name for image in images for name in (image.file.name, image.thumbnail.name)]
    assert all(names)  # a file and a WebP thumbnail each
    return names


def test_deleting_an_image_removes_its_files(owner, django_capture_on_commit_callbacks):
    image = ImageFactory(owner=owner)
    names = stored_names(image)
    assert all(default_storage.exists(name) for name in names)
    with django_capture_on_commit_callbacks(execute=True):
        image.delete()
    assert not any(default_storage.exists(name) for name in names)


def test_deleting_a_user_leaves_no_orphan_files(owner, django_capture_on_commit_callbacks):
    doomed = UserFactory(username="doomed")
    images = [ImageFactory(owner=doomed) for _ in range(3)]
    keep = ImageFactory(owner=owner)
    names = stored_names(*images)
    with django_capture_on_commit_callbacks(execute=True):
        doomed.delete()
    assert not Image.objects.filter(owner_id=doomed.pk).exists()
    assert not any(default_storage.exists(name) for name in names)
    assert all(default_storage.exists(name) for name in stored_names(keep))


def test_deleting_a_team_removes_its_images_and_their_files(
    owner, member, team, django_capture_on_commit_callbacks
):
    shared = [ImageFactory(owner=member, team=team), ImageFactory(owner=owner, team=team)]
    private = ImageFactory(owner=member)
    names = stored_names(*shared)
    with django_capture_on_commit_callbacks(execute=True):
        team.delete()
    assert not Image.objects.filter(pk__in=[image.pk for image in shared]).exists()
    assert not any(default_storage.exists(name) for name in names)
    assert all(default_storage.exists(name) for name in stored_names(private))


def test_files_stay_until_the_deletion_commits(owner, django_capture_on_commit_callbacks):
    image = ImageFactory(owner=owner)
    names = stored_names(image)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        image.delete()
        assert all(default_storage.exists(name) for name in names)
    assert len(callbacks) == 1


def test_a_rolled_back_deletion_keeps_the_files(owner, django_capture_on_commit_callbacks):
    image = ImageFactory(owner=owner)
    names = stored_names(image)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                Image.objects.get(pk=image.pk).delete()
                raise RuntimeError("change of mind")
        except RuntimeError:
            pass
    assert callbacks == []
    assert Image.objects.filter(pk=image.pk).exists()
    assert all(default_storage.exists(name) for name in names)


def test_children_survive_their_parents_deletion(owner, django_capture_on_commit_callbacks):
    parent = ImageFactory(owner=owner)
    child = ImageFactory(owner=owner, parent=parent)
    with django_capture_on_commit_callbacks(execute=True):
        parent.delete()
    child.refresh_from_db()
    assert child.parent is None
    assert all(default_storage.exists(name) for name in stored_names(child))
