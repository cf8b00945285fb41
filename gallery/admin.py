from django.contrib import admin

from gallery.models import ShareLink


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ("image", "created_by", "created_at", "expires_at", "revoked_at")
    raw_id_fields = ("image",)
    readonly_fields = ("created_by", "created_at")
