"""A team's usage, at the /teams/ path it was first served under (studio/urls.py)."""

from django.urls import path

from jobs import views

app_name = "usage"
urlpatterns = [
    path("<int:pk>/usage", views.team_usage_page, name="team"),
]
