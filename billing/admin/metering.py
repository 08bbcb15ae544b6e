"""Admin: daily usage rollups and quarantined records (read-only)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from billing.admin.shared import PeriodFilter
from billing.models import (
    QuarantinedRecord,
    UsageRollup,
)
from common.admin_export import export_as_csv, export_as_xlsx


@admin.register(UsageRollup)
class UsageRollupAdmin(admin.ModelAdmin):
    """Daily usage, read-only: it is written by ingestion only."""

    list_display = [
        "day",
        "customer",
        "project",
        "api_key",
        "provider",
        "model",
        "variant",
        "requests",
        "input_tokens",
        "cached_input_tokens",
        "output_tokens",
        "cost",
        "currency",
        "priced",
        "bill_period",
    ]
    actions = [export_as_csv, export_as_xlsx]
    list_filter = [PeriodFilter, "provider", "variant", ("price_version", admin.EmptyFieldListFilter), "customer"]
    search_fields = ["customer__code", "project__code", "api_key__key_id", "model"]
    date_hierarchy = "day"
    list_select_related = ["customer", "project", "api_key"]

    @admin.display(boolean=True, description=_("priced"))
    def priced(self, obj: UsageRollup) -> bool:
        return obj.price_version_id is not None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(QuarantinedRecord)
class QuarantinedRecordAdmin(admin.ModelAdmin):
    """Records the gateway sent that were rejected: what was sent and why."""

    list_display = ["received_at", "request_id", "error_summary", "source", "resolved_at"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), "received_at"]
    search_fields = ["request_id"]
    date_hierarchy = "received_at"
    readonly_fields = ["received_at", "source", "batch_index", "request_id", "payload", "errors"]
    fields = readonly_fields + ["resolved_at", "resolution_note"]
    actions = [export_as_csv, export_as_xlsx, "mark_resolved"]

    @admin.display(description=_("errors"))
    def error_summary(self, obj: QuarantinedRecord) -> str:
        return "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in (obj.errors or {}).items())[:200]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Mark as resolved"))
    def mark_resolved(self, request, queryset):
        from django.utils import timezone

        updated = queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
        self.message_user(request, _("%(n)d records marked resolved.") % {"n": updated}, messages.SUCCESS)
