"""The gallery at scale: keyset pages and a filtered search over N images, against OFFSET.

    .venv/bin/python bench/gallery.py [--images 100000] [--database-url URL] [--requests 50]

Seeds ``--images`` rows on a fresh database (SQLite in a temporary folder by default; with
``--database-url`` an empty PostgreSQL database, whose bench rows are removed afterwards).
Every row points at one shared small file: the bench measures queries and rendering, not
disks. 80 % of the rows belong to the signed-in user (a third of those shared with one of
their three teams), 10 % to teammates (shared with a team), 10 % to an outsider (never
visible); five endpoints, creation times over a year (inserted oldest first, as a gallery
fills), 2 % of the user's images starred.

Then, signed in as the user, ``--requests`` times each, through the web server as
`make run` starts it (uvicorn, over HTTP: the figure the target is for) and in process
through Django's test client (the same request without the server, and the only way to
swap in the baselines' paging):

- the first gallery page; a deep page (the visible image half-way down) by keyset cursor;
- a filtered search: a prompt word, one model and a three-month date range; and a word
  found in one prompt in a thousand (the prompt text is the one filter no B-tree serves);
- the same three as one query with "mine OR my teams'" in its WHERE (keyset pages as first
  written, before each part of the visible set got its own index scan);
- the baseline: the first and the same deep page by OFFSET, through the same view and
  template, as the gallery paginated before (Django's Paginator: a COUNT, then OFFSET).
"""

import pathlib
import sys

# `python bench/gallery.py` puts bench/ first on the path, where bench/engine.py would shadow
# the engine package (and this file the gallery app): the project's root comes first instead.
sys.path[:] = [
    p
    for p in sys.path
    if pathlib.Path(p or ".").resolve() != pathlib.Path(__file__).resolve().parent
]
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import datetime  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

import httpx  # noqa: E402

from bench._setup import header, percentile, setup_django  # noqa: E402

ENDPOINTS = ["flux/dev", "flux/schnell", "sdxl/generative", "re-craft/generative", "sd/3.5/large"]
WORDS = [
    "lighthouse",
    "dawn",
    "fox",
    "forest",
    "neon",
    "city",
    "portrait",
    "cat",
    "dog",
    "river",
    "mountain",
    "castle",
    "robot",
    "garden",
    "ocean",
    "desert",
    "storm",
    "galaxy",
    "market",
    "bridge",
    "tower",
    "winter",
    "summer",
    "cinematic",
    "watercolor",
    "sketch",
    "golden",
    "misty",
    "ancient",
    "futuristic",
    "cozy",
    "vintage",
]
RARE_WORD = "aurora"
PAGE = 48
TARGET_MS = 50.0
BATCH = 5000


def tiny_png() -> bytes:
    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("RGB", (64, 64), (90, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def seed(n: int, rng: random.Random) -> dict:
    """The user, their teams and teammates, an outsider, and ``n`` image rows."""
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.db import transaction
    from django.utils import timezone

    from gallery.models import Favourite, Image
    from teams.models import Membership, Role, Team

    User = get_user_model()
    tag = uuid.uuid4().hex[:6]
    user = User.objects.create_user(f"bench-gallery-{tag}")
    outsider = User.objects.create_user(f"bench-outsider-{tag}")
    teams, mates = [], []
    for t in range(3):
        team = Team.objects.create(name=f"bench-team-{tag}-{t}", created_by=user)
        Membership.objects.create(team=team, user=user, role=Role.OWNER)
        mate = User.objects.create_user(f"bench-mate-{tag}-{t}")
        Membership.objects.create(team=team, user=mate, role=Role.EDITOR)
        teams.append(team)
        mates.append(mate)

    content = tiny_png()
    file_name = default_storage.save(f"images/bench/{tag}.png", ContentFile(content))
    now = timezone.now()
    year = 365 * 24 * 3600
    # Oldest first, as a gallery fills: ids grow with creation times.
    moments = sorted(now - datetime.timedelta(seconds=rng.randrange(year)) for _ in range(n))
    rows = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.8:
            owner, team = user, (teams[rng.randrange(3)] if rng.random() < 1 / 3 else None)
        elif roll < 0.9:
            t = rng.randrange(3)
            owner, team = mates[t], teams[t]
        else:
            owner, team = outsider, None
        endpoint = ENDPOINTS[i % len(ENDPOINTS)]
        words = rng.sample(WORDS, rng.randint(5, 10))
        if i % 1000 == 0:
            words.append(RARE_WORD)  # in 0.1 % of the prompts
        rows.append(
            Image(
                owner=owner,
                team=team,
                endpoint=endpoint,
                prompt=" ".join(words),
                negative_prompt="blurry, low quality" if i % 4 == 0 else "",
                params={"canvas": "Square", "guidance": 3.5, "steps": 28},
                seed=rng.randrange(2**32),
                file=file_name,
                thumbnail="",
                content_type="image/png",
                format="png",
                width=1024,
                height=1024,
                size_bytes=len(content),
                checksum="0" * 64,
                placeholder="#5a78c8",
                created_at=moments[i],
            )
        )
        if len(rows) == BATCH:
            with transaction.atomic():
                Image.objects.bulk_create(rows)
            rows = []
    if rows:
        Image.objects.bulk_create(rows)
    mine = list(Image.objects.filter(owner=user).values_list("pk", flat=True))
    starred = rng.sample(mine, len(mine) // 50)
    for start in range(0, len(starred), BATCH):
        Favourite.objects.bulk_create(
            Favourite(user=user, image_id=pk) for pk in starred[start : start + BATCH]
        )
    return {"user": user, "users": [user, outsider, *mates], "teams": teams, "file": file_name}


def analyse() -> str:
    """On PostgreSQL, what autovacuum would have done by now: planner statistics, and the
    GIN indexes' pending lists merged (a fresh bulk load leaves them long, and every search
    reads them). SQLite is left as Django leaves it: without statistics (no ANALYZE)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return ""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return ", then VACUUM ANALYZE"


def cleanup(seeded: dict) -> None:
    """Remove the bench's rows (raw deletes: 100,000 signals would only slow this down)."""
    from django.core.files.storage import default_storage
    from django.db import transaction

    from gallery.models import Collection, Favourite, Image
    from teams.models import Activity, Membership

    users = [u.pk for u in seeded["users"]]
    teams = [t.pk for t in seeded["teams"]]
    with transaction.atomic():
        Favourite.objects.filter(user_id__in=users)._raw_delete("default")
        Collection.objects.filter(owner_id__in=users).delete()
        Image.objects.filter(owner_id__in=users)._raw_delete("default")
        Activity.objects.filter(team_id__in=teams)._raw_delete("default")
        Membership.objects.filter(team_id__in=teams)._raw_delete("default")
        for team in seeded["teams"]:
            team.delete()
        for user in seeded["users"]:
            user.delete()
    default_storage.delete(seeded["file"])


def timed(client, url: str, requests: int) -> tuple[float, float, int]:
    """p50 and p95 in ms over ``requests`` GETs (after three to warm up), and the tiles.

    ``client``: Django's test client (in process) or an httpx client of the web server
    (each answer read to its last byte before it returns)."""
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
    tiles = response.content.count(b'name="ids" value="')
    return percentile(times, 50), percentile(times, 95), tiles


class OffsetPages:
    """The baseline: the same view and template, paged as the gallery was before (a COUNT and
    an OFFSET through Django's Paginator) instead of by keyset. For this bench only."""

    def __init__(self) -> None:
        self.page_number = 1

    def __call__(self, user, search, after=None, *, team_ids, size=None):
        from django.core.paginator import Paginator

        from gallery.search import KeysetPage, for_grid, search_images

        images = for_grid(search_images(user, search), user)
        page = Paginator(images, size or PAGE).get_page(self.page_number)
        return KeysetPage(list(page.object_list), None)


def one_or_query(user, search, after=None, *, team_ids, size=None):
    """Keyset pages as first written: one query, "mine OR my teams'" in its WHERE (which no
    index orders: the database gathers and sorts every visible row). For this bench only."""
    from gallery.search import for_grid, keyset_page, search_images

    return keyset_page(for_grid(search_images(user, search), user), after, size)


def sql_ms(url: str, client, repeat: int = 20) -> float:
    """p50 of running the request's queries again, straight on the database: the share of
    the database in the request's time (the rest is Python: middleware, view, template)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    statements = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    times = []
    with connection.cursor() as cursor:
        for _ in range(repeat):
            start = time.perf_counter()
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()
            times.append((time.perf_counter() - start) * 1000)
    return percentile(times, 50)


def explain(url: str, client) -> list[str]:
    """The page query's plan, for the figures' notes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    sql = max((q["sql"] for q in queries.captured_queries), key=len)
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        return [" | ".join(str(c) for c in row) for row in cursor.fetchall()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--database-url", default=None, help="an empty database to use")
    parser.add_argument(
        "--no-analyze", action="store_true", help="PostgreSQL: skip VACUUM ANALYZE after seeding"
    )
    parser.add_argument("--explain", action="store_true", help="print each page query's plan")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    print(header("python bench/gallery.py " + " ".join(sys.argv[1:])))

    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    workdir = setup_django(args.database_url, f"bench-{uuid.uuid4().hex[:8]}")
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from gallery import views
    from gallery.models import Image
    from gallery.search import Cursor

    if args.database_url and Image.objects.exists():
        print("The database already holds images: give the bench an empty one.")
        return 2

    rng = random.Random(20240601)
    started = time.perf_counter()
    seeded = seed(args.images, rng)
    done = "" if args.no_analyze else analyse()
    print(
        f"# {connection.vendor}: seeded {args.images:,} images in "
        f"{time.perf_counter() - started:.1f} s{done}"
    )
    try:
        user = seeded["user"]
        client = Client()
        client.force_login(user)
        gallery = reverse("gallery:list")
        visible = Image.objects.visible_to(user).order_by("-created_at", "-id")
        total = visible.count()
        middle = total // 2
        deep = visible[middle]
        cursor = Cursor.of(deep).encode()
        today = datetime.date.today()
        search = (
            f"{gallery}?q=lighthouse&model=flux/dev"
            f"&date_from={today - datetime.timedelta(days=180)}"
            f"&date_to={today - datetime.timedelta(days=90)}"
        )
        cases = [
            ("first page (keyset)", gallery),
            (f"deep page, image {middle:,} (keyset)", f"{gallery}?after={cursor}"),
            ("search: word + model + 3 months", search),
            (f"search: a rare word ({RARE_WORD}, 0.1 %)", f"{gallery}?q={RARE_WORD}"),
        ]
        results = []
        http_results = []
        from tests.stack import start_stack

        # The web server as `make run` starts it (uvicorn, DEBUG=1), on the same database;
        # signed in with the test client's session, which lives in the database.
        stack = start_stack(
            dict(connection.settings_dict), args.redis_url, workdir / "stack", worker_concurrency=1
        )
        try:
            with httpx.Client(
                base_url=stack.url,
                cookies={"sessionid": client.cookies["sessionid"].value},
                timeout=60,
            ) as http:
                for label, url in cases:
                    p50, p95, tiles = timed(http, url, args.requests)
                    http_results.append((label, p50, p95, tiles))
        finally:
            stack.stop()
        for label, url in cases:
            p50, p95, tiles = timed(client, url, args.requests)
            results.append((label, p50, p95, tiles, sql_ms(url, client)))
            if args.explain:
                print(f"\n{label}:\n  " + "\n  ".join(explain(url, client)))

        offset = OffsetPages()
        keyset = views.gallery_page
        try:
            views.gallery_page = one_or_query
            for label, url in cases[:3]:
                label = label.replace("(keyset)", "").strip() + " (one OR query)"
                p50, p95, tiles = timed(client, url, args.requests)
                results.append((label, p50, p95, tiles, sql_ms(url, client)))
                if args.explain:
                    print(f"\n{label}:\n  " + "\n  ".join(explain(url, client)))
            views.gallery_page = offset
            for label, number in (
                ("first page (OFFSET, baseline)", 1),
                (f"deep page, image {middle:,} (OFFSET, baseline)", middle // PAGE + 1),
            ):
                offset.page_number = number
                p50, p95, tiles = timed(client, gallery, args.requests)
                results.append((label, p50, p95, tiles, sql_ms(gallery, client)))
                if args.explain:
                    print(f"\n{label}:\n  " + "\n  ".join(explain(gallery, client)))
        finally:
            views.gallery_page = keyset

        print(
            f"\n{connection.vendor}, {args.images:,} images ({total:,} visible to the user): "
            "over HTTP through uvicorn"
        )
        print(f"| {'request':46} | tiles | p50 ms | p95 ms | ≤ {TARGET_MS:.0f} ms |")
        print(f"|{'-' * 48}|------:|-------:|-------:|:-------:|")
        for label, p50, p95, tiles in http_results:
            ok = "yes" if p95 <= TARGET_MS else "no"
            print(f"| {label:46} | {tiles:5} | {p50:6.1f} | {p95:6.1f} | {ok:^7} |")
        print("\nthe same in process (Django's test client), with the baselines")
        print(f"| {'request':46} | tiles | p50 ms | p95 ms | ≤ {TARGET_MS:.0f} ms | SQL p50 ms |")
        print(f"|{'-' * 48}|------:|-------:|-------:|:-------:|----------:|")
        for label, p50, p95, tiles, sql in results:
            ok = "yes" if p95 <= TARGET_MS else "no"
            print(f"| {label:46} | {tiles:5} | {p50:6.1f} | {p95:6.1f} | {ok:^7} | {sql:9.1f} |")
    finally:
        if args.database_url:
            cleanup(seeded)
        from django.db import connections

        connections.close_all()
        shutil.rmtree(workdir, ignore_errors=True)  # the SQLite file and the shared image
    return 0


if __name__ == "__main__":
    sys.exit(main())
