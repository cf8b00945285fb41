"""Every URL that names an object refuses everyone it does not belong to.

The URLconf is walked, not listed by hand: a URL with an object in its path (or a signed
value) that is not in ``MATRIX`` fails ``test_every_url_is_classified``, and so does any
other new URL until it is put in ``NO_OBJECT`` with the reason it needs no access check.

Each probe is tried twice, on a fresh world each time: by the outsider (a signed-up user
who is in none of the owner's teams), who must get 404 (as if the object did not exist)
or the status named in the probe, with nothing changed; and by the owner, who must not be
refused, so a probe that no longer reaches its view cannot pass unnoticed. Roles inside a
team (viewer, editor) are the business of tests/teams/test_permissions_matrix.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from engine.models import ApiToken, EngineJob, Status
from gallery.links import signed_media_url
from gallery.models import Collection, Favourite, Image, ShareLink
from gallery.sharing import create_share_link, share_link_token
from jobs.models import Job, Stage
from teams.membership import create_invite, invite_token
from teams.models import Invite, Membership, Role, Team
from tests.conftest import client_for
from tests.factories import ImageFactory, JobFactory, UserFactory

pytestmark = pytest.mark.django_db


@dataclass
class World:
    owner: object
    outsider: object
    image: Image  # the owner's, private
    image2: Image  # the owner's, private
    team_image: Image  # the owner's, in the owner's team
    their_image: Image  # the outsider's own
    job: Job
    collection: Collection
    their_collection: Collection
    team: Team
    their_team: Team
    teammate: object
    invite: Invite
    link: ShareLink
    engine_job: EngineJob
    engine_token: str  # the owner's
    their_engine_token: str

    def snapshot(self) -> tuple:
        """What a refused request must leave as it was."""
        return (
            sorted(Image.objects.values_list("pk", "team_id")),
            sorted(Job.objects.values_list("pk", "status")),
            sorted(Collection.objects.values_list("pk", "name")),
            sorted(Collection.images.through.objects.values_list("collection_id", "image_id")),
            sorted(Favourite.objects.values_list("user_id", "image_id")),
            sorted(Team.objects.values_list("pk", "name", "daily_job_quota")),
            sorted(Team.objects.values_list("pk", "api_token_encrypted")),
            sorted(Membership.objects.values_list("team_id", "user_id", "role")),
            sorted(Invite.objects.values_list("pk", "revoked")),
            sorted(ShareLink.objects.values_list("pk", "revoked_at")),
            sorted(EngineJob.objects.values_list("pk", "status")),
        )


@pytest.fixture
def world(owner, outsider, team, monkeypatch) -> World:
    monkeypatch.setattr("jobs.tasks.submit_job.delay", lambda pk: None)
    monkeypatch.setattr("jobs.tasks.cancel_upstream.delay", lambda pk: None)
    teammate = UserFactory(username="teammate")
    Membership.objects.create(team=team, user=teammate, role=Role.EDITOR)
    their_team = Team.objects.create(name="Outsider's team", created_by=outsider)
    Membership.objects.create(team=their_team, user=outsider, role=Role.OWNER)
    image = ImageFactory(owner=owner)
    collection = Collection.objects.create(owner=owner, name="Mine")
    collection.images.add(image)
    token, raw = ApiToken.issue(owner, "matrix")
    return World(
        owner=owner,
        outsider=outsider,
        image=image,
        image2=ImageFactory(owner=owner),
        team_image=ImageFactory(owner=owner, team=team),
        their_image=ImageFactory(owner=outsider),
        job=JobFactory(owner=owner, status=Stage.PROCESSING, upstream_id="up-1"),
        collection=collection,
        their_collection=Collection.objects.create(owner=outsider, name="Theirs"),
        team=team,
        their_team=their_team,
        teammate=teammate,
        invite=create_invite(team, owner, Role.VIEWER),
        link=create_share_link(image, owner, 7),
        engine_job=EngineJob.objects.create(
            token=token,
            endpoint="flux/dev",
            status=Status.SUCCEEDED,
            output_file=default_storage.save("engine/1/output.png", ContentFile(b"\x89PNG")),
        ),
        engine_token=raw,
        their_engine_token=ApiToken.issue(outsider, "theirs")[1],
    )


def tampered(value: str) -> str:
    return value[:-1] + ("A" if value[-1] != "A" else "B")


@dataclass
class Probe:
    """One request at an object of the owner's (or a signed value)."""

    method: str
    url: Callable[[World], str]
    data: Callable[[World], dict] = field(default=lambda w: {})
    # What the outsider gets: 404 unless the refusal is a form error (422).
    outsider: int = 404
    # The owner's request with an untampered value, for signed URLs.
    owner_url: Callable[[World], str] | None = None
    headers: Callable[[World], dict] = field(default=lambda w: {})


def url(name: str, *args: Callable[[World], object], query: str = "") -> Callable[[World], str]:
    def build(w: World) -> str:
        path = reverse(name, args=[a(w) for a in args])
        return f"{path}?{query.format(w=w)}" if query else path

    return build


def IMG(w):
    return w.image.pk


def JOB(w):
    return w.job.pk


def COL(w):
    return w.collection.pk


def TEAM(w):
    return w.team.pk


def TEAM_IMG(w):
    return w.team_image.pk


def get(u, **k) -> Probe:
    return Probe("get", u, **k)


def post(u, data: Callable[[World], dict] | dict | None = None, **k) -> Probe:
    body = data if callable(data) else (lambda w, d=data or {}: d)
    return Probe("post", u, body, **k)


def bulk(action: str, **extra: Callable[[World], object]) -> Probe:
    """The bulk bar: one of the owner's images among the outsider's own."""

    def data(w: World) -> dict:
        return {
            "action": action,
            "ids": [w.their_image.pk, w.image.pk],
            **{k: f(w) for k, f in extra.items()},
        }

    return post(url("gallery:bulk"), data)


def engine_headers(w: World) -> dict:
    """The caller's own engine token: another token's job must be absent."""
    return {"Authorization": f"Bearer {w.their_engine_token}"}


def media_value(w: World) -> str:
    return signed_media_url(w.image.file.name, w.owner.pk).rsplit("/", 1)[1]


# name -> the probes that reach its view with an object that is not the outsider's
MATRIX: dict[str, list[Probe]] = {
    # made again
    "create:rerun": [post(url("create:rerun", IMG))],
    "create:remix": [get(url("create:remix", IMG))],
    "create:variations": [post(url("create:variations", IMG), {"count": 2})],
    "create:send": [get(url("create:send", IMG, lambda w: "utils/upscale"))],
    "create:send-faceswap": [
        get(url("create:send-faceswap", IMG)),
        # their own target, the owner's image as the face
        get(
            lambda w: (
                reverse("create:send-faceswap", args=[w.their_image.pk]) + f"?face={w.image.pk}"
            )
        ),
    ],
    # jobs
    "jobs:detail": [get(url("jobs:detail", JOB))],
    "jobs:card": [get(url("jobs:card", JOB), headers=lambda w: {"HX-Request": "true"})],
    "jobs:cancel": [post(url("jobs:cancel", JOB))],
    "jobs:retry": [post(url("jobs:retry", JOB))],
    # gallery: one image
    "gallery:detail": [get(url("gallery:detail", IMG)), get(url("gallery:detail", TEAM_IMG))],
    "gallery:file": [
        get(url("gallery:file", IMG)),
        get(url("gallery:file", IMG, query="download=1")),
        get(url("gallery:file", TEAM_IMG)),
    ],
    "gallery:thumbnail": [
        get(url("gallery:thumbnail", IMG)),
        get(url("gallery:thumbnail", TEAM_IMG)),
    ],
    "gallery:favourite": [post(url("gallery:favourite", IMG), {"favourite": "1"})],
    "gallery:image-collections": [
        post(
            url("gallery:image-collections", IMG),
            lambda w: {"action": "add", "collection": w.their_collection.pk},
        ),
        # their own image into the owner's collection
        post(
            lambda w: reverse("gallery:image-collections", args=[w.their_image.pk]),
            lambda w: {"action": "add", "collection": w.collection.pk},
        ),
    ],
    # gallery: collections
    "gallery:collection": [get(url("gallery:collection", COL))],
    "gallery:collection-rename": [post(url("gallery:collection-rename", COL), {"name": "Taken"})],
    "gallery:collection-delete": [
        get(url("gallery:collection-delete", COL)),
        post(url("gallery:collection-delete", COL)),
    ],
    # gallery: objects named in the query or the body
    "gallery:list": [
        get(url("gallery:list", query="team={w.team.pk}")),
        get(url("gallery:list", query="collection={w.collection.pk}")),
    ],
    "gallery:zip": [get(url("gallery:zip", query="ids={w.their_image.pk}&ids={w.image.pk}"))],
    "gallery:delete": [
        get(url("gallery:delete", query="ids={w.image.pk}")),
        post(url("gallery:delete"), lambda w: {"ids": [w.their_image.pk, w.image.pk]}),
        post(url("gallery:delete"), lambda w: {"ids": [w.team_image.pk]}),
    ],
    "gallery:compare": [get(url("gallery:compare", query="a={w.their_image.pk}&b={w.image.pk}"))],
    "gallery:bulk": [
        bulk("zip"),
        bulk("delete"),
        bulk("compare"),
        bulk("add", collection=lambda w: w.their_collection.pk),
        # their own images into, out of, or between the owner's collections
        post(
            url("gallery:bulk"),
            lambda w: {"action": "add", "ids": [w.their_image.pk], "collection": w.collection.pk},
        ),
        post(
            url("gallery:bulk"),
            lambda w: {
                "action": "remove",
                "ids": [w.their_image.pk],
                "from_collection": w.collection.pk,
            },
        ),
        post(
            url("gallery:bulk"),
            lambda w: {
                "action": "move",
                "ids": [w.their_image.pk],
                "from_collection": w.collection.pk,
                "collection": w.their_collection.pk,
            },
        ),
    ],
    # create: the owner's image as a utility's input is a form error, no job
    "create:create-endpoint": [
        post(
            url("create:create-endpoint", lambda w: "utils/upscale"),
            lambda w: {"image_source": "gallery", "image_image": w.image.pk},
            outsider=422,
        ),
        post(
            url("create:create-endpoint", lambda w: "flux/dev"),
            lambda w: {"prompt": "a fox", "canvas": "Square", "save_to": w.team.pk},
            outsider=422,
        ),
    ],
    # teams: the outsider is no member
    "teams:detail": [get(url("teams:detail", TEAM))],
    "teams:activity": [get(url("teams:activity", TEAM))],
    "usage:team": [get(url("usage:team", TEAM, query="member={w.teammate.pk}"))],
    "teams:leave": [get(url("teams:leave", TEAM)), post(url("teams:leave", TEAM))],
    "teams:member-add": [
        post(url("teams:member-add", TEAM), {"username": "outsider", "role": "owner"})
    ],
    "teams:member-role": [
        post(url("teams:member-role", TEAM, lambda w: w.teammate.pk), {"role": "viewer"}),
        # their own team, the owner's teammate: not a member there
        post(
            lambda w: reverse("teams:member-role", args=[w.their_team.pk, w.teammate.pk]),
            {"role": "viewer"},
            outsider=422,
        ),
    ],
    "teams:member-remove": [
        post(url("teams:member-remove", TEAM, lambda w: w.teammate.pk)),
        post(
            lambda w: reverse("teams:member-remove", args=[w.their_team.pk, w.teammate.pk]),
            outsider=422,
        ),
    ],
    "teams:invite-create": [post(url("teams:invite-create", TEAM), {"role": "owner"})],
    "teams:invite-revoke": [
        post(url("teams:invite-revoke", TEAM, lambda w: w.invite.pk)),
        # through their own team, the owner's invite
        post(lambda w: reverse("teams:invite-revoke", args=[w.their_team.pk, w.invite.pk])),
    ],
    "teams:settings": [get(url("teams:settings", TEAM))],
    "teams:rename": [post(url("teams:rename", TEAM), {"name": "Taken"})],
    "teams:token": [post(url("teams:token", TEAM), {"token": "their-token-1234"})],
    "teams:token-remove": [post(url("teams:token-remove", TEAM))],
    "teams:quota": [post(url("teams:quota", TEAM), {"daily_job_quota": "1"})],
    "teams:delete": [get(url("teams:delete", TEAM)), post(url("teams:delete", TEAM))],
    # one image's sharing
    "sharing:image-sharing": [get(url("sharing:image-sharing", IMG))],
    "sharing:image-share": [
        post(url("sharing:image-share", IMG), lambda w: {"team": w.their_team.pk}),
    ],
    "sharing:link-create": [post(url("sharing:link-create", IMG), {"days": 30})],
    "sharing:link-revoke": [post(url("sharing:link-revoke", lambda w: w.link.pk))],
    # signed values: a tampered one is refused; the true one works
    "teams:join": [
        get(
            lambda w: reverse("teams:join", args=[tampered(invite_token(w.invite))]),
            owner_url=lambda w: reverse("teams:join", args=[invite_token(w.invite)]),
        ),
        post(
            lambda w: reverse("teams:join", args=[tampered(invite_token(w.invite))]),
            owner_url=lambda w: reverse("teams:join", args=[invite_token(w.invite)]),
        ),
    ],
    "sharing:public-image": [
        get(
            lambda w: reverse("sharing:public-image", args=[tampered(share_link_token(w.link))]),
            owner_url=lambda w: reverse("sharing:public-image", args=[share_link_token(w.link)]),
        )
    ],
    "sharing:public-image-file": [
        get(
            lambda w: reverse(
                "sharing:public-image-file", args=[tampered(share_link_token(w.link))]
            ),
            owner_url=lambda w: reverse(
                "sharing:public-image-file", args=[share_link_token(w.link)]
            ),
        )
    ],
    "signed-media": [
        get(
            lambda w: reverse("signed-media", args=[tampered(media_value(w))]),
            owner_url=lambda w: reverse("signed-media", args=[media_value(w)]),
        )
    ],
    # the engine: another token's job is absent
    "engine:job": [get(lambda w: f"/engine/v1/job/{w.engine_job.pk}", headers=engine_headers)],
    "engine:cancel": [
        post(lambda w: f"/engine/v1/job/{w.engine_job.pk}/cancel", headers=engine_headers)
    ],
    # an output file: served to its owner's token (or a signed link, tests/engine/
    # test_output_delivery.py), to anyone else absent
    "engine:file": [
        get(lambda w: f"/engine/files/{w.engine_job.output_file}", headers=engine_headers)
    ],
}

# URLs that name no object of a user's, and why they need no access check of their own.
NO_OBJECT = {
    "studio:home": "the signed-in user's start page",
    "create:index": "the catalog's picker",
    "create:recall": "reads the uploaded file only",
    "create:validate": "validates a form; nothing saved (create-endpoint's rules)",
    "studio:health": "the API's ping",
    "accounts:signup": "public",
    "accounts:login": "public",
    "accounts:logout": "the user's own session",
    "accounts:password_change": "the user's own account",
    "accounts:password_changed": "a notice",
    "jobs:list": "Job.objects.for_user",
    "jobs:events": "the user's own channel (jobs.events.channel_for)",
    "gallery:collections": "the user's own collections",
    "teams:list": "the user's memberships",
    "teams:create": "a new team",
    "engine:openapi": "the API's description",
    "engine:ping": "health",
    "engine:license": "static",
    "engine:submit": "creates a job for the caller's token",
    "engine:<unknown>": "answers 404",
}


def _walk(resolvers, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            joined = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), joined)
        elif isinstance(entry, URLPattern):
            name = entry.name or "<unknown>"
            yield (f"{namespace}:{name}" if namespace else name), prefix + str(entry.pattern)


def all_urls() -> dict[str, str]:
    return {name: route for name, route in _walk(get_resolver().url_patterns)}


def test_every_url_is_classified():
    urls = {name: route for name, route in all_urls().items() if not name.startswith("admin:")}
    unclassified = sorted(set(urls) - set(MATRIX) - set(NO_OBJECT))
    assert not unclassified, (
        "New URLs: add each to MATRIX (it names an object: prove others get 404) or to "
        f"NO_OBJECT with the reason it needs no check: {unclassified}"
    )
    stale = sorted((set(MATRIX) | set(NO_OBJECT)) - set(urls))
    assert not stale, f"Classified URLs that no longer exist: {stale}"


def test_every_url_with_an_object_in_its_path_is_probed():
    with_object = {
        name
        for name, route in all_urls().items()
        if ("<" in route or "(?P" in route) and not name.startswith("admin:")
    }
    exempt = {"create:validate", "engine:submit", "engine:<unknown>"}
    assert with_object - exempt <= set(MATRIX)


PROBES = [(name, i) for name, probes in MATRIX.items() for i in range(len(probes))]


def _send(client, probe: Probe, w: World, target: str):
    return getattr(client, probe.method)(target, probe.data(w), headers=probe.headers(w))


@pytest.mark.parametrize(("name", "index"), PROBES, ids=[f"{n}#{i}" for n, i in PROBES])
def test_outsider_is_refused_and_nothing_changes(world, name, index):
    probe = MATRIX[name][index]
    before = world.snapshot()
    response = _send(client_for(world.outsider), probe, world, probe.url(world))
    assert response.status_code == probe.outsider, (name, response.status_code)
    assert world.snapshot() == before, f"{name}: a refused request changed something"
    if response.status_code == 404 and not name.startswith("engine:"):
        body = response.content.decode(errors="replace")
        # Not found says nothing about the object: no prompt, no name.
        assert "a lighthouse at dawn" not in body and "Studio team" not in body


@pytest.mark.parametrize(("name", "index"), PROBES, ids=[f"{n}#{i}" for n, i in PROBES])
def test_owner_is_not_refused(world, name, index):
    probe = MATRIX[name][index]
    # The same request with the outsider's own objects swapped for the owner's.
    mine = dataclasses.replace(
        world,
        their_image=world.image2,
        their_collection=Collection.objects.create(owner=world.owner, name="Also mine"),
        their_team=world.team,
        their_engine_token=world.engine_token,
    )
    target = (probe.owner_url or probe.url)(mine)
    client = client_for(world.owner)
    response = getattr(client, probe.method)(target, probe.data(mine), headers=probe.headers(mine))
    assert response.status_code not in (403, 404, 405), (name, response.status_code)
    assert response.status_code < 500
