"""Jobs in the admin: to look up what happened to one, not to edit it. The tasks and the
follower own every field of a job (its status, its next poll), so the pages are read-only
and jobs are only made by submitting."""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "endpoint",
        "status",
        "owner",
        "team",
        "created_at",
        "finished_at",
        "attempts",
        "poll_count",
    )
    list_filter = ("status", "created_at", "endpoint")
    search_fields = ("endpoint", "upstream_id", "owner__username", "team__name", "error")
    list_select_related = ("owner", "team")
    date_hierarchy = "created_at"
    raw_id_fields = ("owner", "team", "parent_image")
    # The page builds a form even to show a job: the link field as Django 6 will, unwarned.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
