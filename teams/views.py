"""Team pages: teams, members and invites, settings (name, token, quota), the activity log.

Permissions (teams/access.py): a team the user is not in answers 404 everywhere; a member
whose role does not allow an action gets a 403 page that says which role it needs. A team's
usage is the jobs app's page (jobs/views.py), sharing an image the gallery's.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from teams.access import get_team_for, team_view
from teams.forms import (
    InviteLinkForm,
    InviteMemberForm,
    QuotaForm,
    RoleForm,
    TeamForm,
    TokenForm,
)
from teams.membership import (
    InviteInvalid,
    TeamRuleError,
    accept_invite,
    add_member,
    change_role,
    create_invite,
    create_team,
    delete_team,
    invite_token,
    leave_consequence,
    leave_team,
    read_invite,
    remove_member,
    rename_team,
    revoke_invite,
    set_quota,
)
from teams.models import CAN_EDIT, CAN_MANAGE, Invite, Membership, Role, Team
from teams.tokens import remove_team_token, set_team_token

ACTIVITY_PER_PAGE = 25
ROLE_ORDER = {Role.OWNER: 0, Role.EDITOR: 1, Role.VIEWER: 2}


# --- teams ----------------------------------------------------------------------------------


def _list_context(request: HttpRequest, form: TeamForm) -> dict:
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("team")
        .annotate(member_count=Count("team__memberships"))
        .order_by("team__name", "team_id")
    )
    return {"memberships": memberships, "form": form}


@require_GET
def team_list(request: HttpRequest) -> HttpResponse:
    """The teams the user belongs to, with their role and the member count."""
    return render(request, "teams/team_list.html", _list_context(request, TeamForm()))


@require_POST
def team_create(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST)
    if not form.is_valid():
        return render(request, "teams/team_list.html", _list_context(request, form), status=422)
    team = create_team(request.user, form.cleaned_data["name"])
    messages.success(request, f"Created {team.name}. You are its owner.")
    return redirect(team)


def _members(team: Team) -> list[Membership]:
    members = list(Membership.objects.filter(team=team).select_related("user"))
    members.sort(key=lambda m: (ROLE_ORDER.get(m.role, 9), m.user.get_username().lower()))
    return members


def _invite_links(request: HttpRequest, team: Team) -> list[dict]:
    links = []
    for invite in Invite.objects.filter(team=team, revoked=False).select_related("created_by"):
        if invite.is_live:
            url = reverse("teams:join", args=[invite_token(invite)])
            links.append({"invite": invite, "url": request.build_absolute_uri(url)})
    return links


def _activity_page(request: HttpRequest, team: Team):
    activities = team.activities.select_related("actor")
    return Paginator(activities, ACTIVITY_PER_PAGE).get_page(request.GET.get("page"))


def _detail_context(request: HttpRequest, team: Team, **extra) -> dict:
    can_manage = team.my_role in CAN_MANAGE
    context = {
        "team": team,
        "my_role": Role(team.my_role),
        "can_manage": can_manage,
        "can_edit": team.my_role in CAN_EDIT,
        "members": _members(team),
        "image_count": team.images.count(),
        "activity": _activity_page(request, team),
        "roles": Role.choices,
        "invite_form": InviteMemberForm(),
        "link_form": InviteLinkForm(),
        "invite_links": _invite_links(request, team) if can_manage else [],
        "member_error": "",
    }
    context.update(extra)
    return context


@team_view
@require_GET
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The team: members with roles, gallery and usage links, the activity log."""
    team = get_team_for(request.user, pk)
    return render(request, "teams/team_detail.html", _detail_context(request, team))


@team_view
@require_GET
def team_activity(request: HttpRequest, pk: int) -> HttpResponse:
    """The team's log, newest first, a page at a time (HTMX: the next page's rows)."""
    team = get_team_for(request.user, pk)
    context = {"team": team, "activity": _activity_page(request, team)}
    template = "teams/activity.html#activity-list" if request.htmx else "teams/activity.html"
    return render(request, template, context)


# --- members ----------------------------------------------------------------------------


def _members_response(
    request: HttpRequest, team: Team, *, error: str = "", status: int = 200, **extra
) -> HttpResponse:
    """After a member action: the members panel (HTMX) or the team page.

    An error re-renders the page with it (422); success goes back to the team page.
    """
    if request.htmx:
        context = _detail_context(request, team, member_error=error, **extra)
        return render(request, "teams/team_detail.html#members", context, status=status)
    if status >= 400:
        context = _detail_context(request, team, member_error=error, **extra)
        return render(request, "teams/team_detail.html", context, status=status)
    return redirect(team)


@team_view
@require_POST
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    """An owner adds a signed-up user by username, with a role."""
    team = get_team_for(request.user, pk, CAN_MANAGE)
    form = InviteMemberForm(request.POST)
    if not form.is_valid():
        return _members_response(request, team, invite_form=form, status=422)
    try:
        membership = add_member(
            team, request.user, form.cleaned_data["username"], form.cleaned_data["role"]
        )
    except TeamRuleError as error:
        form.add_error("username", str(error))
        return _members_response(request, team, invite_form=form, status=422)
    messages.success(
        request,
        f"Added {membership.user.get_username()} as {membership.get_role_display().lower()}.",
    )
    return _members_response(request, team)


@team_view
@require_POST
def member_role(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    team = get_team_for(request.user, pk, CAN_MANAGE)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _members_response(request, team, error="Choose owner, editor or viewer.", status=422)
    try:
        membership = change_role(team, request.user, user_id, form.cleaned_data["role"])
    except TeamRuleError as error:
        return _members_response(request, team, error=str(error), status=422)
    if membership.user_id == request.user.pk and membership.role not in CAN_MANAGE:
        # The owner stepped down: the whole page changes (no more management forms).
        messages.success(request, f"You are now {membership.get_role_display().lower()}.")
        if request.htmx:
            return HttpResponseClientRedirect(team.get_absolute_url())
        return redirect(team)
    return _members_response(request, team)


@team_view
@require_POST
def member_remove(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    team = get_team_for(request.user, pk, CAN_MANAGE)
    if user_id == request.user.pk:
        return _members_response(
            request, team, error="To leave the team yourself, use “Leave team”.", status=422
        )
    try:
        remove_member(team, request.user, user_id)
    except TeamRuleError as error:
        return _members_response(request, team, error=str(error), status=422)
    return _members_response(request, team)


@team_view
@require_http_methods(["GET", "POST"])
def team_leave(request: HttpRequest, pk: int) -> HttpResponse:
    """Leave the team, after a confirmation saying what that does."""
    team = get_team_for(request.user, pk)
    consequence = leave_consequence(team, request.user)
    context = {
        "team": team,
        "consequence": consequence,
        "image_count": team.images.count(),
    }
    if request.method == "GET":
        return render(request, "teams/team_leave.html", context)
    try:
        deleted = leave_team(team, request.user)
    except TeamRuleError as error:
        context["error"] = str(error)
        return render(request, "teams/team_leave.html", context, status=422)
    if deleted:
        messages.success(request, f"You left {team.name}; as its last member, it was deleted.")
    else:
        messages.success(request, f"You left {team.name}.")
    return redirect("teams:list")


# --- invite links -----------------------------------------------------------------------


@team_view
@require_POST
def invite_create(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_team_for(request.user, pk, CAN_MANAGE)
    form = InviteLinkForm(request.POST)
    if not form.is_valid():
        return _members_response(request, team, link_form=form, status=422)
    create_invite(team, request.user, form.cleaned_data["role"])
    messages.success(request, "Invite link made: copy it from the list below. It lasts 7 days.")
    return _members_response(request, team)


@team_view
@require_POST
def invite_revoke(request: HttpRequest, pk: int, invite_id: int) -> HttpResponse:
    team = get_team_for(request.user, pk, CAN_MANAGE)
    invite = get_object_or_404(Invite, pk=invite_id, team=team)
    revoke_invite(invite, request.user)
    return _members_response(request, team)


@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, value: str) -> HttpResponse:
    """The signed invite link: shows the team and role, and joins on POST."""
    try:
        invite = read_invite(value)
    except InviteInvalid as refusal:
        return render(
            request, "teams/invite_invalid.html", {"message": str(refusal)}, status=refusal.status
        )
    membership = Membership.objects.filter(team=invite.team, user=request.user).first()
    if request.method == "GET" or membership is not None:
        context = {"invite": invite, "membership": membership, "value": value}
        return render(request, "teams/invite_accept.html", context)
    accept_invite(invite, request.user)
    messages.success(
        request, f"You joined {invite.team.name} as {invite.get_role_display().lower()}."
    )
    return redirect(invite.team)


# --- settings: name, token, quota, deletion ---------------------------------------------


def _settings_response(request: HttpRequest, team: Team, status: int = 200, **forms):
    context = {
        "team": team,
        "name_form": forms.get("name_form") or TeamForm(initial={"name": team.name}),
        "token_form": forms.get("token_form") or TokenForm(),
        "quota_form": forms.get("quota_form")
        or QuotaForm(initial={"daily_job_quota": team.daily_job_quota}),
    }
    return render(request, "teams/team_settings.html", context, status=status)


@team_view
@require_GET
def team_settings(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_team_for(request.user, pk, CAN_MANAGE)
    return _settings_response(request, team)


@team_view
@require_POST
def team_rename(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_team_for(request.user, pk, CAN_MANAGE)
    form = TeamForm(request.POST)
    if not form.is_valid():
        return _settings_response(request, team, status=422, name_form=form)
    rename_team(team, request.user, form.cleaned_data["name"])
    messages.success(request, "Saved the team's name.")
    return redirect("teams:settings", team.pk)


@sensitive_post_parameters("token")
@team_view
@require_POST
def team_token(request: HttpRequest, pk: int) -> HttpResponse:
    """Store or replace the team's API token (the form never shows it back)."""
    team = get_team_for(request.user, pk, CAN_MANAGE)
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            set_team_token(team, request.user, form.cleaned_data["token"])
        except TeamRuleError as error:
            form.add_error("token", str(error))
    if not form.is_valid():
        return _settings_response(request, team, status=422, token_form=form)
    messages.success(
        request, f"Saved the team's API token (…{team.api_token_last4}); the team's jobs use it."
    )
    return redirect("teams:settings", team.pk)


@team_view
@require_POST
def team_token_remove(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_team_for(request.user, pk, CAN_MANAGE)
    remove_team_token(team, request.user)
    messages.success(request, "Removed the team's API token; its jobs use the studio's again.")
    return redirect("teams:settings", team.pk)


@team_view
@require_POST
def team_quota(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_team_for(request.user, pk, CAN_MANAGE)
    form = QuotaForm(request.POST)
    if not form.is_valid():
        return _settings_response(request, team, status=422, quota_form=form)
    set_quota(team, request.user, form.cleaned_data["daily_job_quota"])
    messages.success(request, "Saved the daily quota.")
    return redirect("teams:settings", team.pk)


@team_view
@require_http_methods(["GET", "POST"])
def team_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete the team and its images, after a confirmation."""
    team = get_team_for(request.user, pk, CAN_MANAGE)
    if request.method == "GET":
        context = {"team": team, "image_count": team.images.count()}
        return render(request, "teams/team_delete.html", context)
    name = team.name
    delete_team(team)
    messages.success(request, f"Deleted {name} and its images.")
    return redirect("teams:list")
