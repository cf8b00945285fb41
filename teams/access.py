"""Access to a team: a team the user is not in answers 404 everywhere; a member whose role
does not allow an action gets a 403 page that says which role it needs."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from teams.models import CAN_EDIT, CAN_MANAGE, CAN_VIEW, Membership, Team


class RoleRequired(PermissionDenied):
    """A member whose role does not allow the action; shown as a 403 page."""

    def __init__(self, team: Team, message: str) -> None:
        super().__init__(message)
        self.team = team


def _refusal(roles: set[str]) -> str:
    if roles == CAN_MANAGE:
        return "Only the team's owners can do this."
    if roles == CAN_EDIT:
        return "Only the team's owners and editors can do this; viewers can look but not change."
    return "Your role in this team does not allow this."


def get_team_for(user, pk: int, roles: set[str] = CAN_VIEW) -> Team:
    """The team ``pk`` if ``user`` is a member with one of ``roles``.

    Not a member: 404 (another's team is as absent as a missing one). A member with another
    role: RoleRequired (403). The team comes back with ``my_role`` set.
    """
    membership = None
    if getattr(user, "is_authenticated", False):
        membership = Membership.objects.select_related("team").filter(team_id=pk, user=user).first()
    if membership is None:
        raise Http404("No such team.")
    team = membership.team
    team.my_role = membership.role
    if membership.role not in roles:
        raise RoleRequired(team, _refusal(roles))
    return team


def team_view(view: Callable) -> Callable:
    """Shows a RoleRequired refusal as the team's 403 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except RoleRequired as refusal:
            context = {"team": refusal.team, "message": str(refusal)}
            return render(request, "teams/forbidden.html", context, status=403)

    return wrapper
