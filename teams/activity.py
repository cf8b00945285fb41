"""The team's activity log: one entry per change worth knowing about, and how images and
generations are named in it."""

from __future__ import annotations

from teams.models import Activity, Team


def record(team: Team | int, actor, verb: str, detail: str) -> Activity:
    """One entry in the team's log (``detail`` reads after the actor's name)."""
    team_id = team if isinstance(team, int) else team.pk
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return Activity.objects.create(team_id=team_id, actor=actor, verb=verb, detail=detail[:300])


def _quoted(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    if not text:
        return ""
    return f"“{text[: limit - 1]}…”" if len(text) > limit else f"“{text}”"


def image_label(image) -> str:
    prompt = _quoted(image.prompt)
    return f"image #{image.pk}" + (f" {prompt}" if prompt else "")


def note_generated(team: Team, user, endpoint_title: str, count: int, prompt: str) -> None:
    what = f"started {count} job{'s' if count != 1 else ''} with {endpoint_title}"
    quoted = _quoted(prompt)
    record(team, user, "generated", f"{what}: {quoted}" if quoted else what)
