"""The site's URLs: each app's own, under its prefix."""

from django.contrib import admin
from django.urls import include, path

from studio import views

# The studio's own pages, namespaced "studio".
studio_patterns = [
    path("", views.home, name="home"),
    path("create/", views.create, name="create"),
]

urlpatterns = [
    path("", include((studio_patterns, "studio"))),
    path("accounts/", include("accounts.urls")),
    path("jobs/", include("jobs.urls")),
    path("gallery/", include("gallery.urls")),
    path("teams/", include("teams.urls")),
    path("admin/", admin.site.urls),
]
