"""Admin: a bill's lines (with each line's variant, units and unit prices in words) and its events, inline on the bill."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from billing.admin.shared import DOCUMENT_INLINE
from billing.bills.unit_prices import PRICED_KINDS, versions_of
from billing.bills.wording import line_words, units_words, variant_words
from billing.models import Bill, BillEvent, BillLine, DisputeMessage, DunningNotice
from billing.periods import format_period
from common.admin_display import count_text, details_html, money_column, rates_text

EVENT_LABELS = {
    "issued": _("issued"),
    "held": _("held in draft"),
    "pdf_rendered": _("PDF rendered"),
    "emailed": _("e-mailed"),
    "email_skipped": _("e-mail skipped"),
    "payment": _("payment recorded"),
    "credit_applied": _("credit applied"),
    "overdue": _("became overdue"),
    "reminder_sent": _("reminder sent"),
    "confirmed": _("statement confirmed"),
    "disputed": _("statement disputed"),
    "void": _("voided"),
    "notice_sent": _("dunning notice sent"),
    "dispute_message": _("dispute message"),
    "dispute_resolved": _("dispute resolved"),
    "credit_granted": _("credit granted on the next bill"),
}
BILL_STATUS_LABELS = dict(Bill.Status.choices)
EVENT_VALUES = {
    **BILL_STATUS_LABELS,
    **{("stage", value): label for value, label in DunningNotice.Stage.choices},
    **{("side", value): label for value, label in DisputeMessage.Side.choices},
}


class BillLineInline(admin.TabularInline):
    model = BillLine
    extra = 0
    can_delete = False
    template = DOCUMENT_INLINE
    fields = [
        "kind",
        "usage_period",
        "project",
        "provider",
        "model",
        "variant_text",
        "request_count",
        "input_token_count",
        "cached_token_count",
        "output_token_count",
        "units_text",
        "discount_percent",
        "rates",
        "price_versions",
        "unit_prices_text",
        "amount_cny",
    ]
    readonly_fields = fields
    amount_cny = money_column("amount", _("amount"))

    @admin.display(description=_("usage period"))
    def usage_period(self, obj: BillLine) -> str:
        return format_period(obj.period)

    @admin.display(description=_("requests"))
    def request_count(self, obj: BillLine) -> str:
        return count_text(obj.requests)

    @admin.display(description=_("input tokens"))
    def input_token_count(self, obj: BillLine) -> str:
        return count_text(obj.input_tokens)

    @admin.display(description=_("cached input tokens"))
    def cached_token_count(self, obj: BillLine) -> str:
        return count_text(obj.cached_input_tokens)

    @admin.display(description=_("output tokens"))
    def output_token_count(self, obj: BillLine) -> str:
        return count_text(obj.output_tokens)

    @admin.display(description=_("variant"))
    def variant_text(self, obj: BillLine) -> str:
        return variant_words(obj.variant) if obj.kind in PRICED_KINDS else "—"

    @admin.display(description=_("units"))
    def units_text(self, obj: BillLine) -> str:
        return format_html_join("", "<div>{}</div>", ((w,) for w in units_words(obj.units or {}))) or "—"

    @admin.display(description=_("unit prices"))
    def unit_prices_text(self, obj: BillLine) -> str:
        # The bill's price versions are read once per page (inline instances live for one request).
        cache = self.__dict__.setdefault("_versions", {})
        if obj.bill_id not in cache:
            cache[obj.bill_id] = versions_of(BillLine.objects.filter(bill_id=obj.bill_id))
        groups = line_words(obj, cache[obj.bill_id]).price_groups
        rows = ((f"{g.heading}: " if g.heading else "", "; ".join(g.prices)) for g in groups)
        return format_html_join("", "<div>{}{}</div>", rows) or "—"

    @admin.display(description=_("rates used"))
    def rates(self, obj: BillLine) -> str:
        return rates_text(obj.exchange_rates)

    def has_add_permission(self, request, obj=None):
        return False


class BillEventInline(admin.TabularInline):
    model = BillEvent
    extra = 0
    can_delete = False
    template = DOCUMENT_INLINE
    fields = ["at", "event", "actor", "details"]
    readonly_fields = fields

    @admin.display(description=_("event"))
    def event(self, obj: BillEvent) -> str:
        return str(EVENT_LABELS.get(obj.kind, obj.kind))

    @admin.display(description=_("details"))
    def details(self, obj: BillEvent) -> str:
        return details_html(obj.data, values=EVENT_VALUES)

    def has_add_permission(self, request, obj=None):
        return False
