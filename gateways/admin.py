"""The admin's view of gateway sources: watermark and last run, held rows, day checks
(read-only: they are written by the sync and the daily check)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from gateways.models import DayCheck, GatewaySource, HeldLog


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(GatewaySource)
class GatewaySourceAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "watermark_time", "last_run_at", "last_run_ok", "last_counts", "last_error"]
    list_filter = ["kind", "last_run_ok"]
    search_fields = ["name"]
    fields = ["name", "kind", "watermark", "watermark_time", "last_run_at", "last_run_ok", "last_counts", "last_error"]
    readonly_fields = fields

    @admin.display(description=_("watermark (time)"))
    def watermark_time(self, obj: GatewaySource) -> str:
        if obj.watermark is None:
            return "—"
        return datetime.fromtimestamp(obj.watermark, UTC).isoformat()

    @admin.display(description=_("last run counts"))
    def last_counts(self, obj: GatewaySource) -> str:
        return ", ".join(f"{k} {v}" for k, v in (obj.last_run_counts or {}).items()) or "—"


@admin.register(HeldLog)
class HeldLogAdmin(ReadOnlyAdmin):
    list_display = ["source", "log_id", "reason", "quarantined", "created_at"]
    list_filter = ["source", "reason"]
    search_fields = ["log_id"]
    list_select_related = ["source", "quarantined"]


@admin.register(DayCheck)
class DayCheckAdmin(ReadOnlyAdmin):
    list_display = [
        "source",
        "day",
        "gateway_requests",
        "our_requests",
        "gateway_input_tokens",
        "our_input_tokens",
        "gateway_output_tokens",
        "our_output_tokens",
        "held",
        "alerted_at",
    ]
    list_filter = ["source", ("alerted_at", admin.EmptyFieldListFilter)]
    date_hierarchy = "day"
    list_select_related = ["source"]
