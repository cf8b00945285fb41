"""Sharing an image, at the /teams/ paths it was first served under (studio/urls.py)."""

from django.urls import path

from gallery import sharing_views

app_name = "sharing"
urlpatterns = [
    path("images/<int:image_pk>/sharing", sharing_views.image_sharing, name="image-sharing"),
    path("images/<int:image_pk>/share", sharing_views.image_share, name="image-share"),
    path("images/<int:image_pk>/links", sharing_views.share_link_create, name="link-create"),
    path("links/<int:pk>/revoke", sharing_views.share_link_revoke, name="link-revoke"),
    # Public (no sign-in): one image behind a signed, expiring, revocable link.
    path("s/<str:value>/", sharing_views.public_image, name="public-image"),
    path("s/<str:value>/file", sharing_views.public_image_file, name="public-image-file"),
]
