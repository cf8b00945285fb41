"""The engine server's root URLconf: the engine's paths at /engine/, as on the studio's server
(so an ``OPENJOURNEY_API_URL`` ending in /engine works on either), and a JSON 404 for the rest.
"""

from django.urls import include, path, re_path

from engine import views

urlpatterns = [
    path("engine/", include("engine.urls")),
    re_path(r"^(?P<rest>.*)$", views.unknown),
]
handler500 = "engine.views.server_error"
