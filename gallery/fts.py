"""The prompt search on SQLite: an FTS5 trigram index beside the images table.

PostgreSQL answers ``icontains`` from its trigram indexes (migration 0004). SQLite has no
index for a substring, so a word found in few prompts read every visible row in date order
until a page was found (docs/performance.md). Here an external-content FTS5 table with the
trigram tokenizer indexes the prompts, kept by triggers; a search for a rare word first
asks it for the few images holding the word.

Two traps shape this module:
- ``id IN (SELECT rowid FROM fts …)`` makes SQLite build the whole list of matches first,
  which for a common word costs more than the plain scan (that scan stops at a page). So a
  word is looked up in the index only when it is rare: at most ``RARE_MATCHES`` rows match.
- Django rebuilds a SQLite table whenever a migration alters it, dropping its triggers.
  ``ensure_index`` runs after every ``migrate`` (post_migrate): it creates what is missing
  and, when the triggers were gone, rebuilds the index from the table.

The index only narrows the rows; ``icontains`` still decides, so results are the same with
or without it.
"""

from __future__ import annotations

from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import RawSQL

TABLE = "gallery_image_fts"
# A word matched by more rows than this is common: the date-ordered scan finds a page of it
# sooner than the index could list its matches (and counting up to this costs ~2 ms).
RARE_MATCHES = 500
# The trigram tokenizer needs at least three characters to match anything.
MIN_WORD = 3

TRIGGERS = {
    "gallery_image_fts_insert": """
        CREATE TRIGGER IF NOT EXISTS "gallery_image_fts_insert"
        AFTER INSERT ON "gallery_image" BEGIN
            INSERT INTO "gallery_image_fts" (rowid, prompt, negative_prompt)
            VALUES (new.id, new.prompt, new.negative_prompt);
        END""",
    "gallery_image_fts_delete": """
        CREATE TRIGGER IF NOT EXISTS "gallery_image_fts_delete"
        AFTER DELETE ON "gallery_image" BEGIN
            INSERT INTO "gallery_image_fts" ("gallery_image_fts", rowid, prompt, negative_prompt)
            VALUES ('delete', old.id, old.prompt, old.negative_prompt);
        END""",
    "gallery_image_fts_update": """
        CREATE TRIGGER IF NOT EXISTS "gallery_image_fts_update"
        AFTER UPDATE OF prompt, negative_prompt ON "gallery_image" BEGIN
            INSERT INTO "gallery_image_fts" ("gallery_image_fts", rowid, prompt, negative_prompt)
            VALUES ('delete', old.id, old.prompt, old.negative_prompt);
            INSERT INTO "gallery_image_fts" (rowid, prompt, negative_prompt)
            VALUES (new.id, new.prompt, new.negative_prompt);
        END""",
}


def _names(cursor, kind: str) -> set[str]:
    cursor.execute("SELECT name FROM sqlite_master WHERE type = %s", [kind])
    return {row[0] for row in cursor.fetchall()}


def ensure_index(connection: BaseDatabaseWrapper) -> bool:
    """Create the index and its triggers where missing; rebuild it when they were missing.

    Returns whether the index is there. Other databases, and a SQLite built without FTS5
    or the trigram tokenizer (before 3.34), have none: the search scans as before.
    """
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        tables = _names(cursor, "table")
        if "gallery_image" not in tables:
            return False
        try:
            if TABLE not in tables:
                cursor.execute(
                    f'CREATE VIRTUAL TABLE "{TABLE}" USING fts5(prompt, negative_prompt, '
                    "content='gallery_image', content_rowid='id', tokenize='trigram')"
                )
        except OperationalError:
            return False
        missing = set(TRIGGERS) - _names(cursor, "trigger")
        for name in missing:
            cursor.execute(TRIGGERS[name])
        if missing:
            # Rows written while a trigger was missing: read the table again.
            cursor.execute(f'INSERT INTO "{TABLE}" ("{TABLE}") VALUES (\'rebuild\')')  # noqa: S608
    return True


def drop_index(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for name in TRIGGERS:
            cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        cursor.execute(f'DROP TABLE IF EXISTS "{TABLE}"')


def _phrase(word: str) -> str:
    """``word`` as one FTS5 phrase (a quoted string: no operator inside is read)."""
    return '"' + word.replace('"', '""') + '"'


def rare_word_ids(connection: BaseDatabaseWrapper, word: str) -> RawSQL | None:
    """``SELECT rowid`` of the images whose prompts hold ``word``, when it is rare enough
    for the index to help; None to let the date-ordered scan find it."""
    if connection.vendor != "sqlite" or len(word) < MIN_WORD:
        return None
    phrase = _phrase(word)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT count(*) FROM (SELECT 1 FROM "{TABLE}" WHERE "{TABLE}" MATCH %s '  # noqa: S608
                f"LIMIT {RARE_MATCHES + 1:d})",
                [phrase],
            )
            matches = cursor.fetchone()[0]
    except OperationalError:  # no index here (an old SQLite): scan
        return None
    if matches > RARE_MATCHES:
        return None
    sql = f'SELECT rowid FROM "{TABLE}" WHERE "{TABLE}" MATCH %s'  # noqa: S608
    return RawSQL(sql, [phrase])  # noqa: S611  the word is a parameter
