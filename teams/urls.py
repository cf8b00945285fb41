"""The team pages. Under /teams/ as well: a team's usage (jobs/usage_urls.py) and sharing an
image (gallery/sharing_urls.py), from the apps above teams (studio/urls.py)."""

from django.urls import path

from teams import views

app_name = "teams"
urlpatterns = [
    path("", views.team_list, name="list"),
    path("new", views.team_create, name="create"),
    path("<int:pk>/", views.team_detail, name="detail"),
    path("<int:pk>/activity", views.team_activity, name="activity"),
    path("<int:pk>/leave", views.team_leave, name="leave"),
    path("<int:pk>/members/add", views.member_add, name="member-add"),
    path("<int:pk>/members/<int:user_id>/role", views.member_role, name="member-role"),
    path("<int:pk>/members/<int:user_id>/remove", views.member_remove, name="member-remove"),
    path("<int:pk>/invites/new", views.invite_create, name="invite-create"),
    path("<int:pk>/invites/<int:invite_id>/revoke", views.invite_revoke, name="invite-revoke"),
    path("<int:pk>/settings", views.team_settings, name="settings"),
    path("<int:pk>/settings/name", views.team_rename, name="rename"),
    path("<int:pk>/settings/token", views.team_token, name="token"),
    path("<int:pk>/settings/token/remove", views.team_token_remove, name="token-remove"),
    path("<int:pk>/settings/quota", views.team_quota, name="quota"),
    path("<int:pk>/delete", views.team_delete, name="delete"),
    path("join/<str:value>", views.invite_accept, name="join"),
]
