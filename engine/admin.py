from django.contrib import admin, messages

from engine.models import ApiToken, EngineJob, Fault, PipelineState


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = (
        "prefix",
        "name",
        "user",
        "revoked",
        "max_active_jobs",
        "created_at",
        "last_used_at",
    )
    list_filter = ("revoked",)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    fields = ("user", "name", "max_active_jobs", "revoked", "prefix", "created_at", "last_used_at")
    raw_id_fields = ("user",)

    def save_model(self, request, obj, form, change):
        if not change:
            # The raw token is shown once, here, and never stored.
            token, raw = ApiToken.issue(obj.user, obj.name)
            obj.pk, obj.key_hash, obj.prefix, obj.created_at = (
                token.pk,
                token.key_hash,
                token.prefix,
                token.created_at,
            )
            token.max_active_jobs, token.revoked = obj.max_active_jobs, obj.revoked
            token.save(update_fields=["max_active_jobs", "revoked"])
            messages.warning(request, f"New token (copy it now, it is not shown again): {raw}")
            return
        super().save_model(request, obj, form, change)


@admin.register(EngineJob)
class EngineJobAdmin(admin.ModelAdmin):
    list_display = ("id", "endpoint", "status", "token", "created_at", "completed_at")
    list_filter = ("status", "endpoint")
    search_fields = ("id", "endpoint")
    readonly_fields = [f.name for f in EngineJob._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Fault)
class FaultAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "path", "method", "token", "remaining", "enabled")
    list_filter = ("enabled", "kind")
    list_editable = ("enabled",)
    raw_id_fields = ("token",)


@admin.register(PipelineState)
class PipelineStateAdmin(admin.ModelAdmin):
    """What workers learnt loading diffusers folders (written by them; read-only here)."""

    list_display = ("folder", "status", "pipeline", "device", "load_seconds", "updated_at")
    list_filter = ("status",)
    readonly_fields = ("folder", "status", "error", "pipeline", "device", "load_seconds")

    def has_add_permission(self, request) -> bool:
        return False
