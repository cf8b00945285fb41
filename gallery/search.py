"""Finding images: the visible set, filtered, newest first, one keyset page at a time.

Pages are cut by a cursor on (created_at, id) rather than by OFFSET, so page 2,000 costs
what page 1 costs: the database walks an index from the cursor and stops after a page.
"""

from __future__ import annotations

import datetime
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce

from django.db import connections
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from gallery.fts import rare_word_ids
from gallery.models import Favourite, Image, ImageQuerySet
from openjourney.catalog import ENDPOINTS, Family

PAGE_SIZE = 48
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)


class BadCursor(ValueError):
    """An ``after`` value that is not one this gallery wrote."""


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the last image's creation time and id."""

    created_at: datetime.datetime
    pk: int

    def encode(self) -> str:
        """``<microseconds since 1970>-<id>``: short, URL-safe and exact."""
        return f"{(self.created_at - _EPOCH) // _MICROSECOND}-{self.pk}"

    @classmethod
    def decode(cls, value: str) -> Cursor:
        micros, sep, pk = value.partition("-")
        if not sep or not micros.isdigit() or not pk.isdigit() or len(value) > 40:
            raise BadCursor(value)
        try:
            created_at = _EPOCH + int(micros) * _MICROSECOND
        except OverflowError:
            raise BadCursor(value) from None
        return cls(created_at, int(pk))

    @classmethod
    def of(cls, image: Image) -> Cursor:
        return cls(image.created_at, image.pk)


def family_choices() -> list[tuple[str, str]]:
    """The families that have endpoints producing images, as ``("flux/", "FLUX")``."""
    seen: dict[Family, None] = {}
    for endpoint in ENDPOINTS:
        if endpoint.is_model or endpoint.is_utility:
            seen.setdefault(endpoint.family)
    return [(f"{family.value}/", family.label) for family in seen]


def endpoints_of_family(prefix: str) -> list[str]:
    """Every endpoint slug of a family: ``endpoint IN (...)`` uses the endpoint index,
    where ``LIKE 'flux/%'`` would not on SQLite."""
    return [e.slug for e in ENDPOINTS if e.slug.startswith(prefix)]


@dataclass
class ImageSearch:
    """A cleaned search: every value already checked (see gallery.forms.ImageFilterForm)."""

    text: str = ""
    endpoints: list[str] | None = None  # None: any; [""]: uploads only
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    author: object | None = None  # a user
    team: object | None = None  # a team the user belongs to
    private: bool = False
    favourites: bool = False
    collection: object | None = None  # one of the user's collections

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.text
            or self.endpoints is not None
            or self.date_from
            or self.date_to
            or self.author
            or self.team
            or self.private
            or self.favourites
            or self.collection
        )


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _filtered(images: ImageQuerySet, user, search: ImageSearch) -> tuple[ImageQuerySet, bool]:
    """``images`` narrowed by every filter of ``search`` (visibility is applied apart), and
    whether a rare word narrowed them to its few images through the prompt index (SQLite,
    gallery/fts.py: one query per word to count its matches)."""
    by_index = False
    if search.text:
        images = images.matching(search.text)
        for word in search.text.split():
            ids = rare_word_ids(connections[images.db], word)
            if ids is not None:
                images, by_index = images.filter(pk__in=ids), True
    if search.endpoints is not None:
        images = images.filter(endpoint__in=search.endpoints)
    if search.date_from:
        images = images.filter(created_at__gte=_start_of(search.date_from))
    if search.date_to:
        images = images.filter(
            created_at__lt=_start_of(search.date_to + datetime.timedelta(days=1))
        )
    if search.author is not None:
        images = images.filter(owner=search.author)
    if search.team is not None:
        images = images.filter(team=search.team)
    if search.private:
        images = images.filter(owner=user, team__isnull=True)
    if search.favourites:
        images = images.starred_by(user)
    if search.collection is not None:
        images = images.in_collection(search.collection)
    return images, by_index


def search_images(user, search: ImageSearch) -> ImageQuerySet:
    """The images ``user`` may see that match ``search``, newest first."""
    images, _ = _filtered(Image.objects.visible_to(user), user, search)
    return images.order_by("-created_at", "-id")


def for_grid(images: ImageQuerySet, user) -> ImageQuerySet:
    """What a tile shows in the same query: the author, the team, the user's star."""
    return images.select_related("owner", "team").annotate(
        is_favourite=Exists(Favourite.objects.filter(user=user, image_id=OuterRef("pk")))
    )


@dataclass
class KeysetPage:
    images: list[Image]
    next_cursor: Cursor | None

    def __iter__(self):
        return iter(self.images)

    def __len__(self) -> int:
        return len(self.images)


# What a tile shows (templates/gallery/image_list.html#tile) and its cursor: a page reads only
# these, not each image's parameters (JSON to decode) or its author's whole row.
TILE_FIELDS = (
    "created_at",
    "prompt",
    "width",
    "height",
    "placeholder",
    "owner_id",
    "team_id",
    "owner__username",
    "team__name",
)


def keyset_page(images: ImageQuerySet, after: Cursor | None, size: int | None = None) -> KeysetPage:
    """One page of ``images`` (ordered newest first) after ``after``, in one query."""
    size = size or PAGE_SIZE
    if after is not None:
        images = images.older_than(after.created_at, after.pk)
    rows = list(images.order_by("-created_at", "-id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(rows, Cursor.of(rows[-1]) if more else None)


def _visibility_branches(
    user,
    search: ImageSearch,
    team_ids: list[int],
    *,
    owner: str = "owner_id",
    team: str = "team_id",
) -> list[Q]:
    """What the user may see, as disjoint parts that each follow one index in date order:
    their own images (owner, created_at, id), and each team's from others (team, ...).
    ``owner`` and ``team`` name the columns (or aliases) compared."""
    mine = Q(**{owner: user.pk})
    if search.private:
        return [mine]
    if search.team is not None:
        return [Q(**{team: search.team.pk})]  # the view checked the user belongs to it
    return [mine] + [Q(**{team: pk}) & ~mine for pk in team_ids]


def gallery_page(
    user,
    search: ImageSearch,
    after: Cursor | None = None,
    *,
    team_ids: list[int],
    size: int | None = None,
) -> KeysetPage:
    """One page of the grid: ``user``'s visible images matching ``search``, after ``after``.

    "Mine or my teams'" is an OR that no single index orders: the database would gather
    every visible row and sort them all for each page (see docs/performance.md). So each
    part of it is read on its own index, in order, stopping at a page's length, and the
    parts are merged (UNION ALL) inside the same query: a page reads at most
    (teams + 1) × (page + 1) index entries, however large the gallery. Where a small set
    drives the search (a collection, the favourites), that set is read first instead.
    """
    size = size or PAGE_SIZE
    images, by_index = _filtered(Image.objects.all(), user, search)
    if after is not None:
        images = images.older_than(after.created_at, after.pk)
    if by_index:
        # A rare word's few images drive the page: read them by id and sort them. Compared
        # as expressions, owner and team offer SQLite no index to walk in date order instead
        # (it would, reading the whole gallery to find the few: docs/performance.md).
        images = images.alias(owner_unindexed=F("owner_id") + 0, team_unindexed=F("team_id") + 0)
        branches = _visibility_branches(
            user, search, team_ids, owner="owner_unindexed", team="team_unindexed"
        )
        visible = images.filter(reduce(operator.or_, branches))
        return keyset_page(for_grid(visible, user).only(*TILE_FIELDS), None, size)
    branches = _visibility_branches(user, search, team_ids)
    if len(branches) == 1 or search.collection is not None or search.favourites:
        visible = images.filter(reduce(operator.or_, branches))
    else:
        visible = Image.objects.filter(pk__in=_merged_ids(images, branches, size + 1))
    return keyset_page(for_grid(visible, user).only(*TILE_FIELDS), None, size)


def _merged_ids(images: ImageQuerySet, branches: list[Q], limit: int) -> RawSQL:
    """``SELECT id`` of the newest ``limit`` rows of ``images`` over all ``branches``, each
    branch limited on its own (the SQL the ORM will not write for SQLite)."""
    parts, params = [], []
    for n, branch in enumerate(branches):
        query = (
            images.filter(branch).order_by("-created_at", "-id").values_list("pk", "created_at")
        )[:limit]
        # The ORM compiled each part, its values kept apart as parameters.
        sql, branch_params = query.query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) AS b{n}")  # noqa: S608
        params.extend(branch_params)
    union = " UNION ALL ".join(parts)
    # Each part names its columns "pk" and "created_at" (values_list), whatever the backend.
    merged = f'SELECT "pk" FROM ({union}) AS visible ORDER BY "created_at" DESC, "pk" DESC'  # noqa: S608
    return RawSQL(f"{merged} LIMIT {limit:d}", params)  # noqa: S611


def ids_from(values: Iterable[str]) -> list[int]:
    """Image ids from form values; ValueError for anything that is not a positive integer."""
    ids: list[int] = []
    for value in values:
        value = value.strip()
        if not value.isdigit() or len(value) > 18:
            raise ValueError(value)
        ids.append(int(value))
    return list(dict.fromkeys(ids))
