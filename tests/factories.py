"""factory-boy factories for the suite: users, teams and their members, jobs, images (made
as the studio makes them: files, thumbnail and row) and collections.

    TeamFactory(created_by=owner)                 # with its creator as its owner
    MembershipFactory(team=team, user=user, role=Role.EDITOR)
    JobFactory(owner=owner, status=Stage.SAVING)  # a succeeded flux/dev job by default
    ImageFactory(owner=owner, team=team)          # a tiny PNG of a colour of its own
    ImageFactory(owner=owner, svg=True)           # an SVG; upload=True: an upload
    JobResultFactory(owner=owner, body={"prompt": "a fox"}, seed=None)  # a job's result
"""

from __future__ import annotations

import datetime
import io
import itertools

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from PIL import Image as PILImage

from gallery.models import Collection, Image
from gallery.services import create_image, store_job_result
from jobs.models import Job, Stage
from teams.models import Membership, Role, Team

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    b'<rect width="10" height="10" fill="#c33"/></svg>'
)
_colours = itertools.count(1)


def png_bytes(size=(64, 48), colour=(200, 30, 30), **save_args) -> bytes:
    """A PNG of one colour; ``save_args`` go to Pillow's save (``pnginfo``, ...)."""
    buffer = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buffer, "PNG", **save_args)
    return buffer.getvalue()


def tiny_png() -> bytes:
    """An 8 x 6 PNG whose bytes no other call gives (a colour of its own)."""
    n = next(_colours)
    return png_bytes((8, 6), (n * 37 % 256, n * 91 % 256, n * 13 % 256))


def days_ago(days: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def stored_bytes(image: Image) -> bytes:
    with image.file.open("rb") as handle:
        return handle.read()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class TeamFactory(factory.django.DjangoModelFactory):
    """A team whose creator is its owner."""

    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")
    created_by = factory.SubFactory(UserFactory)
    owner = factory.RelatedFactory(
        "tests.factories.MembershipFactory",
        factory_related_name="team",
        user=factory.SelfAttribute("..created_by"),
        role=Role.OWNER,
    )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.VIEWER


class JobFactory(factory.django.DjangoModelFactory):
    """A job row as the tasks leave it (nothing is sent anywhere): succeeded by default."""

    class Meta:
        model = Job

    owner = factory.SubFactory(UserFactory)
    endpoint = "flux/dev"
    input = factory.LazyFunction(lambda: {"prompt": "x"})
    status = Stage.SUCCEEDED


class ImageFactory(factory.django.DjangoModelFactory):
    """A gallery image stored through gallery.services.create_image (its file, its WebP
    thumbnail, its row); ``created_at`` back-dates it. Any other field of create_image
    (``seed``, ``parent``, ``job``, ``params``, ...) may be given."""

    class Meta:
        model = Image

    class Params:
        svg = factory.Trait(content=SVG, endpoint="")
        # As a user uploads one: no model, no prompt; a 64 x 48 PNG unless content is given.
        upload = factory.Trait(
            content=factory.LazyFunction(png_bytes),
            endpoint="",
            prompt="",
        )

    owner = factory.SubFactory(UserFactory)
    content = factory.LazyFunction(tiny_png)
    prompt = "a lighthouse at dawn"
    endpoint = "flux/dev"
    created_at = None

    @classmethod
    def _create(cls, model_class, owner, content: bytes, created_at=None, **fields) -> Image:
        image = create_image(owner, content, **fields)
        if created_at is not None:
            Image.objects.filter(pk=image.pk).update(created_at=created_at)
            image.refresh_from_db()
        return image


class JobResultFactory(factory.django.DjangoModelFactory):
    """The stored result of a finished job, as the worker leaves it (gallery.services.
    store_job_result: the recipe in the file and on the row), made without the API.
    ``body`` is the job's input; ``seed`` (None for none) joins it."""

    class Meta:
        model = Image

    class Params:
        owner = factory.SubFactory(UserFactory)
        endpoint = "flux/dev"
        body = factory.LazyFunction(lambda: {"prompt": "a red fox", "canvas": "Square"})
        seed = 1234
        parent = None
        team = None

    job = factory.SubFactory(
        JobFactory,
        owner=factory.SelfAttribute("..owner"),
        endpoint=factory.SelfAttribute("..endpoint"),
        input=factory.LazyAttribute(
            lambda job: {
                **job.factory_parent.body,
                **({} if job.factory_parent.seed is None else {"seed": job.factory_parent.seed}),
            }
        ),
        seed=factory.SelfAttribute("..seed"),
        parent_image=factory.SelfAttribute("..parent"),
        team=factory.SelfAttribute("..team"),
    )
    content = factory.LazyFunction(png_bytes)

    @classmethod
    def _create(cls, model_class, job: Job, content: bytes) -> Image:
        return store_job_result(job, content, "image/png")


class CollectionFactory(factory.django.DjangoModelFactory):
    """A collection; ``images=[...]`` puts images in it."""

    class Meta:
        model = Collection
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Board {n}")

    @factory.post_generation
    def images(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.images.add(*extracted)
