from django.contrib import admin

from teams.models import Activity, Invite, Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "created_by", "created_at", "api_token_last4", "daily_job_quota")
    search_fields = ("name",)
    # The token is never shown again, not even encrypted; owners replace it on the team page.
    exclude = ("api_token_encrypted",)
    readonly_fields = ("api_token_last4",)
    inlines = [MembershipInline]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("team", "actor", "verb", "detail", "created_at")
    list_filter = ("verb",)
    readonly_fields = ("team", "actor", "verb", "detail", "created_at")


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ("team", "role", "created_by", "created_at", "revoked", "uses")
    list_filter = ("role", "revoked")
    exclude = ("nonce",)
    readonly_fields = ("team", "created_by", "created_at", "uses")
