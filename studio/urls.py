"""The site's URLs: each app's own, under its prefix."""

from django.contrib import admin
from django.urls import include, path

from gallery import views as gallery_views
from studio import views

# The studio's own pages, namespaced "studio".
studio_patterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
]

urlpatterns = [
    path("", include((studio_patterns, "studio"))),
    path("", include("create.urls")),
    path("accounts/", include("accounts.urls")),
    path("jobs/", include("jobs.urls")),
    path("gallery/", include("gallery.urls")),
    path("teams/", include("teams.urls")),
    # Team pages of the apps above teams, at their /teams/ paths: a team's usage counts its
    # jobs; sharing an image (and its public page) is the gallery's.
    path("teams/", include("jobs.usage_urls")),
    path("teams/", include("gallery.sharing_urls")),
    # Signed, expiring links to stored images, for the API to fetch (no sign-in).
    path("media/signed/<str:value>", gallery_views.signed_media, name="signed-media"),
    path("engine/", include("engine.urls")),
    path("admin/", admin.site.urls),
]
