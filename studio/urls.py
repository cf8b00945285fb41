"""The site's URLs: each app's own, under its prefix."""

from django.contrib import admin
from django.urls import include, path

from gallery import views as gallery_views
from studio import views

# The studio's own pages, namespaced "studio".
studio_patterns = [
    path("", views.home, name="home"),
    path("create/", views.create, name="create"),
    # Made again (before create/<slug>, which would take "recall" for a model).
    path("create/recall", views.recall, name="recall"),
    path("images/<int:pk>/rerun", views.rerun, name="rerun"),
    path("images/<int:pk>/remix", views.remix, name="remix"),
    path("images/<int:pk>/variations", views.variations, name="variations"),
    path("images/<int:pk>/send/utils/faceswap", views.send_to_faceswap, name="send-faceswap"),
    path("images/<int:pk>/send/<path:slug>", views.send_to_utility, name="send"),
    path("create/<path:slug>/validate", views.validate_endpoint, name="validate"),
    path("create/<path:slug>", views.create_endpoint, name="create-endpoint"),
    path("health/", views.health, name="health"),
]

urlpatterns = [
    path("", include((studio_patterns, "studio"))),
    path("accounts/", include("accounts.urls")),
    path("jobs/", include("jobs.urls")),
    path("gallery/", include("gallery.urls")),
    path("teams/", include("teams.urls")),
    # Signed, expiring links to stored images, for the API to fetch (no sign-in).
    path("media/signed/<str:value>", gallery_views.signed_media, name="signed-media"),
    path("engine/", include("engine.urls")),
    path("admin/", admin.site.urls),
]
