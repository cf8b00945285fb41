from django.contrib import admin

from teams.models import Activity, Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "created_by", "created_at", "api_token_last4", "daily_job_quota")
    search_fields = ("name",)
    exclude = ("api_token_encrypted",)
    readonly_fields = ("api_token_last4",)
    inlines = [MembershipInline]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("team", "actor", "verb", "detail", "created_at")
    list_filter = ("verb",)
    readonly_fields = ("team", "actor", "verb", "detail", "created_at")
