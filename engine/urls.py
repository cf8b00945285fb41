from django.urls import path, re_path

from engine import views

app_name = "engine"
V1 = r"^(?:v1/)?"
urlpatterns = [
    path("openapi.json", views.openapi, name="openapi"),
    path("files/<path:name>", views.output_file, name="file"),
    re_path(V1 + r"job/(?P<job_id>[0-9a-zA-Z_-]{1,64})/cancel/?$", views.job_cancel, name="cancel"),
    re_path(V1 + r"job/(?P<job_id>[0-9a-zA-Z_-]{1,64})/?$", views.job_detail, name="job"),
    re_path(V1 + r"internal/ping/?$", views.ping, name="ping"),
    re_path(V1 + r"internal/license/?$", views.license_info, name="license"),
    re_path(
        V1 + r"(?P<slug>(?:flux|re-craft|sdxl|sd|utils)/[0-9a-zA-Z._/-]+?)/?$",
        views.submit,
        name="submit",
    ),
    re_path(r"^(?P<rest>.*)$", views.unknown),
]
