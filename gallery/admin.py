"""The gallery in the admin. Images and collections are read-only here: an image's file,
thumbnail, checksum and recipe are made together by gallery.services, and sharing goes
through the studio's pages, which log it for the team."""

from __future__ import annotations

from django.contrib import admin

from gallery.models import Collection, Image, ShareLink


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "endpoint",
        "owner",
        "team",
        "format",
        "width",
        "height",
        "size_bytes",
        "created_at",
    )
    list_filter = ("format", "created_at", "endpoint")
    search_fields = ("prompt", "negative_prompt", "endpoint", "owner__username", "checksum")
    list_select_related = ("owner", "team")
    date_hierarchy = "created_at"
    raw_id_fields = ("owner", "team", "job", "parent")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "created_at")
    search_fields = ("name", "owner__username")
    list_select_related = ("owner",)
    raw_id_fields = ("owner", "images")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ("image", "created_by", "created_at", "expires_at", "revoked_at")
    raw_id_fields = ("image",)
    readonly_fields = ("created_by", "created_at")
