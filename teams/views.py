"""Team pages: teams, members and invites, settings (token, quota), usage, activity, sharing.

Permissions: a team the user is not in answers 404 everywhere (``get_team_for``); a member
whose role does not allow an action gets a 403 page that says which role it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from gallery.models import Image
from gallery.views import file_response, get_editable_image_for, get_image_for
from teams.forms import (
    InviteLinkForm,
    InviteMemberForm,
    QuotaForm,
    RoleForm,
    ShareLinkForm,
    ShareWithTeamForm,
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
    create_share_link,
    create_team,
    delete_team,
    invite_token,
    leave_consequence,
    leave_team,
    read_invite,
    read_share_link,
    remove_member,
    remove_team_token,
    rename_team,
    revoke_invite,
    revoke_share_link,
    set_quota,
    set_team_token,
    share_image,
    share_link_token,
    team_usage,
)
from teams.models import CAN_EDIT, CAN_MANAGE, CAN_VIEW, Invite, Membership, Role, ShareLink, Team

ACTIVITY_PER_PAGE = 25
ROLE_ORDER = {Role.OWNER: 0, Role.EDITOR: 1, Role.VIEWER: 2}


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
        "image_count": Image.objects.filter(team=team).count(),
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
        "image_count": Image.objects.filter(team=team).count(),
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
        context = {"team": team, "image_count": Image.objects.filter(team=team).count()}
        return render(request, "teams/team_delete.html", context)
    name = team.name
    delete_team(team)
    messages.success(request, f"Deleted {name} and its images.")
    return redirect("teams:list")


# --- usage ------------------------------------------------------------------------------


@team_view
@require_GET
def team_usage_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Jobs, successes and failures of the last 30 days, per member, model and day."""
    team = get_team_for(request.user, pk)
    member_id = None
    raw = request.GET.get("member", "")
    if raw.isdigit():
        member_id = int(raw)
    usage = team_usage(team, member_id=member_id)
    selected = None
    if member_id is not None:
        selected = next((m for m in usage["members"] if m["user_id"] == member_id), None)
        if selected is None:
            member_id = None
            usage = team_usage(team)
    context = {"team": team, "usage": usage, "selected": selected}
    return render(request, "teams/team_usage.html", context)


# --- one image: sharing with a team, public links -----------------------------------------


def _sharing_context(request: HttpRequest, image: Image, **extra) -> dict:
    user = request.user
    is_author = image.owner_id == user.pk
    can_link = Image.objects.editable_by(user).filter(pk=image.pk).exists()
    links = []
    if can_link:
        for link in ShareLink.objects.live().filter(image=image):
            url = reverse("teams:public-image", args=[share_link_token(link)])
            links.append({"link": link, "url": request.build_absolute_uri(url)})
    context = {
        "image": image,
        "is_author": is_author,
        "can_link": can_link,
        "share_form": ShareWithTeamForm(user, initial={"team": image.team_id})
        if is_author
        else None,
        "link_form": ShareLinkForm(),
        "links": links,
        "error": "",
    }
    context.update(extra)
    return context


def _sharing_response(request: HttpRequest, image: Image, status: int = 200, **extra):
    context = _sharing_context(request, image, **extra)
    if request.htmx:
        return render(request, "teams/image_sharing_page.html#panel", context, status=status)
    return render(request, "teams/image_sharing_page.html", context, status=status)


@require_GET
def image_sharing(request: HttpRequest, image_pk: int) -> HttpResponse:
    """Where an image is shared and its public links (the image page loads this panel)."""
    image = get_image_for(request.user, image_pk)
    return _sharing_response(request, image)


@require_POST
def image_share(request: HttpRequest, image_pk: int) -> HttpResponse:
    """The author moves the image into one of their teams, or makes it private again."""
    image = get_image_for(request.user, image_pk)
    form = ShareWithTeamForm(request.user, request.POST)
    if image.owner_id != request.user.pk:
        return _sharing_response(
            request,
            image,
            status=403,
            error="Only the image's author can choose where it is shared.",
        )
    if not form.is_valid():
        return _sharing_response(request, image, status=422, share_form=form)
    try:
        share_image(image, request.user, form.cleaned_data["team"])
    except TeamRuleError as error:
        return _sharing_response(request, image, status=422, error=str(error))
    team = form.cleaned_data["team"]
    notice = f"Shared with {team.name}." if team else "The image is private again."
    if request.htmx:
        return _sharing_response(request, image, notice=notice)
    messages.success(request, notice)
    return redirect(image)


@require_POST
def share_link_create(request: HttpRequest, image_pk: int) -> HttpResponse:
    image = get_editable_image_for(request.user, image_pk)
    form = ShareLinkForm(request.POST)
    if not form.is_valid():
        return _sharing_response(request, image, status=422, link_form=form)
    create_share_link(image, request.user, form.cleaned_data["days"])
    notice = "Public link made: anyone with it can see this image until it expires."
    if request.htmx:
        return _sharing_response(request, image, notice=notice)
    messages.success(request, notice)
    return redirect("teams:image-sharing", image.pk)


@require_POST
def share_link_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    link = get_object_or_404(ShareLink.objects.select_related("image"), pk=pk)
    image = get_editable_image_for(request.user, link.image_id)
    revoke_share_link(link, request.user)
    notice = "The link no longer works."
    if request.htmx:
        return _sharing_response(request, image, notice=notice)
    messages.success(request, notice)
    return redirect("teams:image-sharing", image.pk)


def _public_link(value: str) -> ShareLink:
    link = read_share_link(value)
    if link is None:
        raise Http404("This link is not valid, has expired or was withdrawn.")
    return link


@login_not_required
@require_GET
def public_image(request: HttpRequest, value: str) -> HttpResponse:
    """Anyone with a live link: the image and its prompt, nothing else."""
    link = _public_link(value)
    response = render(request, "teams/public_image.html", {"link": link, "value": value})
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@login_not_required
@require_GET
def public_image_file(request: HttpRequest, value: str) -> HttpResponse:
    link = _public_link(value)
    response = file_response(link.image.file.name, link.image.content_type)
    # Short: a withdrawn link should stop working in browsers soon, not in an hour.
    response["Cache-Control"] = "private, max-age=60"
    response["X-Robots-Tag"] = "noindex"
    return response
