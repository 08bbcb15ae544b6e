"""Admin: daily usage rollups and quarantined records (read-only)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from billing.admin.repricing import reprice
from billing.admin.shared import PeriodFilter
from billing.models import (
    QuarantinedRecord,
    UsageRollup,
)
from common.admin_display import labelled_filter
from common.admin_export import export_as_csv, export_as_xlsx

# A usage row's variant (billing.pricing.cost.variant_name): "standard" is a word, the others codes.
VARIANT_LABELS = {"standard": _("standard")}


@admin.register(UsageRollup)
class UsageRollupAdmin(admin.ModelAdmin):
    # A row is read in the list, whose columns name it in the reader's language: no page of its own.
    list_display_links = None
    """Daily usage, read-only: it is written by ingestion only."""

    # The rollup's fields carry no verbose names (its model is metering's); the columns say
    # what they are in the reader's language.
    list_display = [
        "day_column",
        "customer_column",
        "project_column",
        "api_key_column",
        "provider_column",
        "model_column",
        "variant_column",
        "requests_column",
        "input_column",
        "cached_column",
        "output_column",
        "cost_column",
        "currency_column",
        "priced",
        "bill_period_column",
    ]
    actions = [export_as_csv, export_as_xlsx, "reprice_unpriced"]
    list_filter = [
        PeriodFilter,
        "provider",
        labelled_filter("variant", _("variant"), VARIANT_LABELS),
        ("price_version", admin.EmptyFieldListFilter),
        "customer",
    ]
    search_fields = ["customer__code", "project__code", "api_key__key_id", "model"]
    date_hierarchy = "day"
    list_select_related = ["customer", "project", "api_key"]

    @admin.display(description=_("variant"), ordering="variant")
    def variant_column(self, obj: UsageRollup):
        return VARIANT_LABELS.get(obj.variant, obj.variant)

    @admin.display(description=_("day"), ordering="day")
    def day_column(self, obj: UsageRollup):
        return obj.day

    @admin.display(description=_("customer"), ordering="customer__code")
    def customer_column(self, obj: UsageRollup):
        return obj.customer

    @admin.display(description=_("project"))
    def project_column(self, obj: UsageRollup):
        return obj.project

    @admin.display(description=_("API key"))
    def api_key_column(self, obj: UsageRollup):
        return obj.api_key

    @admin.display(description=_("provider"), ordering="provider")
    def provider_column(self, obj: UsageRollup):
        return obj.provider

    @admin.display(description=_("model"), ordering="model")
    def model_column(self, obj: UsageRollup):
        return obj.model

    @admin.display(description=_("requests"))
    def requests_column(self, obj: UsageRollup):
        return obj.requests

    @admin.display(description=_("input tokens"))
    def input_column(self, obj: UsageRollup):
        return obj.input_tokens

    @admin.display(description=_("cached input tokens"))
    def cached_column(self, obj: UsageRollup):
        return obj.cached_input_tokens

    @admin.display(description=_("output tokens"))
    def output_column(self, obj: UsageRollup):
        return obj.output_tokens

    @admin.display(description=_("cost"))
    def cost_column(self, obj: UsageRollup):
        return obj.cost

    @admin.display(description=_("currency"))
    def currency_column(self, obj: UsageRollup):
        return obj.currency

    @admin.display(description=_("billing period"), ordering="bill_period")
    def bill_period_column(self, obj: UsageRollup):
        return obj.bill_period

    @admin.display(boolean=True, description=_("priced"))
    def priced(self, obj: UsageRollup) -> bool:
        return obj.price_version_id is not None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Re-price unpriced usage (after adding its price)"))
    def reprice_unpriced(self, request, queryset):
        """This month's (or any open month's) usage stored without a price: price it once
        the price is added — the re-price a held draft's bill gets, before any close."""
        selected = queryset.filter(price_version__isnull=True).values_list("customer_id", "period").distinct()
        if not selected:
            self.message_user(request, _("The selected rows are all priced; nothing to re-price."), messages.INFO)
            return
        repriced, reasons = 0, []
        for period in sorted({p for _c, p in selected}):
            customers = {c for c, p in selected if p == period}
            count, still = reprice(customer_ids=customers, period=period)
            repriced += count
            reasons += still
        self.message_user(
            request,
            _("%(n)d usage records re-priced.") % {"n": repriced},
            messages.SUCCESS if repriced else messages.WARNING,
        )
        for reason in reasons:
            self.message_user(request, reason, messages.WARNING)


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
