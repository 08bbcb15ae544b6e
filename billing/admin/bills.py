"""Admin: bills (lines, events, payments inline; close, PDF, void, reissue, record a payment) and the seller profile."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from billing.admin.bill_inlines import BillEventInline, BillLineInline
from billing.admin.collecting import DisputeMessageInline, DunningNoticeInline
from billing.admin.repricing import local_minute, price_add_url, reprice, time_text, unpriced_usage
from billing.admin.shared import DOCUMENT_INLINE, PeriodFilter
from billing.models import (
    Bill,
    BillLine,
    Payment,
    SellerProfile,
)
from billing.periods import format_period
from common.admin_display import money_column, money_text, party_html
from common.admin_export import export_as_csv, export_as_xlsx
from common.admin_forms import action_with_form
from common.admin_links import document_links
from common.errors import Conflict

# --- Bills and payments -----------------------------------------------------------------


LINE_KIND_LABELS = dict(BillLine.Kind.choices)


def held_draft_steps(bill: Bill) -> list[tuple[str, str | None]]:
    """What finance does to release a held draft, as (text, link or None) steps: add each
    missing price (a link to the price form, filled in), then re-price and close again; or
    fix the cause the hold reason names and close again. Shared by the bill admin and the
    staff dashboard. Empty for a bill that is not a draft."""
    if bill.status != Bill.Status.DRAFT:
        return []
    steps: list[tuple[str, str | None]] = []
    for item in unpriced_usage(customer_ids=[bill.customer_id], bill_period=bill.period):
        text = _("Add the price of %(model)s, effective from %(earliest)s (the earliest held call) or earlier") % {
            "model": item.name,
            "earliest": time_text(local_minute(item.earliest)),
        }
        steps.append((text, price_add_url(item)))
    if steps:
        steps.append((_("Then choose “Re-price held usage and close again” for this bill in the bill list."), None))
    elif bill.hold_reason:
        steps.append((_("Fix the cause above, then choose “Close again” in the bill list."), None))
    return steps


def close_outcome_text(outcome) -> str:
    """A close's result for one bill in the reader's language (the shell's ``close_month``
    prints ``CloseOutcome.line()``)."""
    bill = outcome.bill
    values = {
        "bill": bill,
        "customer": bill.customer.code,
        "period": format_period(bill.period),
        "total": money_text(bill.total),
        "status": bill.get_status_display(),
        "reason": bill.hold_reason,
    }
    if outcome.action == "unchanged":
        return _("%(bill)s (%(customer)s, %(period)s): already issued, unchanged; total %(total)s.") % values
    if bill.status == Bill.Status.DRAFT:
        return _("%(bill)s (%(customer)s, %(period)s) is still held in draft, total %(total)s: %(reason)s") % values
    return _("%(bill)s (%(customer)s, %(period)s): %(status)s, total %(total)s.") % values


def close_outcome_level(outcome) -> int:
    return messages.WARNING if outcome.bill.status == Bill.Status.DRAFT else messages.SUCCESS


class VoidForm(forms.Form):
    reason = forms.CharField(
        label=_("reason for voiding"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Kept in each bill's history and on the red-letter invoices that reverse its invoices."),
    )


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    template = DOCUMENT_INLINE
    show_change_link = True
    fields = [
        *["received_on", "method", "amount_cny", "applied_cny"],
        *["reference", "payer_name", "payer_mismatch", "recorded_by"],
    ]
    readonly_fields = fields
    amount_cny = money_column("amount", _("amount"))
    applied_cny = money_column("applied", Payment._meta.get_field("applied").verbose_name)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Bill)
class BillAdmin(admin.ModelAdmin):
    """Bills are written by the close only; the admin reads them and calls services."""

    # Narrow enough for 1280 px beside the filters: the money, the due date and the PDF come
    # before the longer texts (the project is in a per-project bill's number).
    list_display = [
        "__str__",
        "customer_code",
        "period_label",
        "status",
        "total_cny",
        "paid_cny",
        "balance_due",
        "due_on",
        "pdf_links",
        "confirmation",
        "held",
    ]
    list_filter = ["status", "confirmation", PeriodFilter, "customer"]
    search_fields = ["number", "customer__code", "customer__name", "hold_reason"]
    date_hierarchy = "period"
    list_select_related = ["customer", "project"]
    change_form_template = "admin/billing/bill/change_form.html"
    inlines = [BillLineInline, PaymentInline, DunningNoticeInline, DisputeMessageInline, BillEventInline]
    actions = [
        export_as_csv,
        export_as_xlsx,
        "close_again",
        "reprice_and_close",
        "render_pdf",
        "void_bills",
        "reissue_bills",
    ]
    exclude = ["pdf"]

    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "customer",
                    "project",
                    "contract",
                    "period_label",
                    "revision",
                    "replaces",
                    "status",
                    "hold_reason",
                    "next_step",
                ]
            },
        ),
        (
            _("Amounts"),
            {
                "fields": [
                    "currency",
                    "exchange_rate",
                    "discount_percent",
                    "vat_rate",
                    "subtotal_cny",
                    "vat_cny",
                    "total_cny",
                    "paid_cny",
                    "balance_due",
                ]
            },
        ),
        (_("Dates"), {"fields": ["issued_on", "due_on", "pdf_links", "pdf_rendered_at", "emailed_at", "reminded_at"]}),
        (
            _("Statement confirmation"),
            {"fields": ["confirmation", "confirmation_note", "confirmed_at", "confirmed_by", "dispute_page"]},
        ),
        (_("Parties (frozen at issue)"), {"fields": ["seller_details", "buyer_details"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [name for _title, opts in self.fieldsets for name in opts["fields"]]

    def autocomplete_queryset(self, queryset, source_field):
        """A payment's bill picker offers only the bills that can take a payment."""
        if source_field.model is Payment:
            return queryset.filter(status__in=Bill.OPEN_STATUSES)
        return queryset

    def autocomplete_text(self, obj: Bill) -> str:
        return _("%(bill)s · %(customer)s %(name)s · %(period)s · balance %(balance)s") % {
            "bill": obj,
            "customer": obj.customer.code,
            "name": obj.customer.name,
            "period": format_period(obj.period),
            "balance": money_text(obj.balance),
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The bill page's buttons: record a payment against it, issue its VAT invoice (the
        list's action, for this bill)."""
        bill = self.get_object(request, object_id)
        buttons = []
        if bill is not None and bill.status in Bill.OPEN_STATUSES:
            payment_add = reverse("admin:billing_payment_add") + "?" + urlencode({"bill": bill.pk})
            buttons.append({"url": payment_add, "label": _("Record payment"), "id": "record-payment"})
        actions = self.get_actions(request)
        if bill is not None and bill.status not in (Bill.Status.DRAFT, Bill.Status.VOID) and "issue_invoice" in actions:
            buttons.append({"action": "issue_invoice", "label": _("Issue VAT invoice…"), "id": "issue-invoice"})
        context = {**(extra_context or {}), "bill_buttons": buttons}
        return super().change_view(request, object_id, form_url, extra_context=context)

    def has_change_permission(self, request, obj=None):
        # Bills are documents: their page is read-only; the actions call the services.
        return obj is None and super().has_change_permission(request, obj)

    def get_urls(self):
        from django.urls import path

        from billing.admin.receivables import receivables_aging_view

        aging = self.admin_site.admin_view(lambda request: receivables_aging_view(self, request))
        return [path("aging/", aging, name="billing_bill_aging"), *super().get_urls()]

    subtotal_cny = money_column("subtotal", _("subtotal"))
    vat_cny = money_column("vat", _("VAT"))
    total_cny = money_column("total", _("total"))
    paid_cny = money_column("amount_paid", _("amount paid"))

    @admin.display(description=_("seller"))
    def seller_details(self, obj: Bill) -> str:
        return party_html(obj.seller)

    @admin.display(description=_("buyer"))
    def buyer_details(self, obj: Bill) -> str:
        return party_html(obj.buyer)

    @admin.display(description=_("balance"))
    def balance_due(self, obj: Bill) -> str:
        if obj.status in (Bill.Status.DRAFT, Bill.Status.VOID):
            return "—"
        return money_text(obj.balance)

    @admin.display(description=_("dispute, reply and credit"))
    def dispute_page(self, obj: Bill) -> str:
        if obj.status in (Bill.Status.DRAFT, Bill.Status.VOID):
            return "—"
        url = reverse("workspace:dispute", args=[obj.number])
        return format_html('<a href="{}">{}</a>', url, _("Open the dispute page (thread, reply, resolve, credit)"))

    @admin.display(description=_("what to do"))
    def next_step(self, obj: Bill) -> str:
        """On a held draft: what finance fixes, with a link to the form that fixes it."""
        steps = (
            format_html('<div><a href="{}">{}</a></div>', url, text) if url else format_html("<div>{}</div>", text)
            for text, url in held_draft_steps(obj)
        )
        return format_html_join("", "{}", ((step,) for step in steps)) or "—"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("period"), ordering="period")
    def period_label(self, obj: Bill) -> str:
        return format_period(obj.period)

    @admin.display(description=_("PDF"))
    def pdf_links(self, obj: Bill) -> str:
        # A draft has no PDF; an issued bill's is rendered on first open if it is missing.
        number = obj.number if obj.status != Bill.Status.DRAFT else None
        return document_links("documents:bill-pdf", number)

    @admin.display(description=_("customer"), ordering="customer__code")
    def customer_code(self, obj: Bill) -> str:
        return format_html('<span title="{}">{}</span>', obj.customer.name, obj.customer.code)

    @admin.display(description=_("why it is held"))
    def held(self, obj: Bill) -> str:
        """The start of the reason (all of it on the bill's page and on hovering)."""
        if not obj.hold_reason:
            return ""
        short = obj.hold_reason if len(obj.hold_reason) <= 40 else obj.hold_reason[:39] + "…"
        return format_html('<span title="{}">{}</span>', obj.hold_reason, short)

    @admin.action(description=_("Close again (rebuild drafts, issue when possible)"))
    def close_again(self, request, queryset):
        from billing.bills.close import month_close_customer

        for bill in queryset:
            for outcome in month_close_customer(customer=bill.customer, period=bill.period, actor=request.user):
                self.message_user(request, close_outcome_text(outcome), close_outcome_level(outcome))

    @admin.action(description=_("Re-price held usage and close again"))
    def reprice_and_close(self, request, queryset):
        """After a missing price is added: price the usage stored as unpriced, then rebuild
        and issue the bill (what `reprice_usage` + `close_month` do from the shell)."""
        from billing.bills.close import month_close_customer

        for bill in queryset.select_related("customer"):
            if bill.status != Bill.Status.DRAFT:
                self.message_user(
                    request, _("%(bill)s is not a draft; nothing to re-price.") % {"bill": bill}, messages.WARNING
                )
                continue
            repriced, still_unpriced = reprice(customer_ids=[bill.customer_id], bill_period=bill.period)
            self.message_user(
                request,
                _("%(bill)s: %(n)d usage records re-priced.") % {"bill": bill, "n": repriced},
                messages.INFO if repriced else messages.WARNING,
            )
            for reason in still_unpriced:
                self.message_user(request, reason, messages.WARNING)
            for outcome in month_close_customer(customer=bill.customer, period=bill.period, actor=request.user):
                self.message_user(request, close_outcome_text(outcome), close_outcome_level(outcome))

    @admin.action(description=_("Regenerate PDF"))
    def render_pdf(self, request, queryset):
        from billing.bills.documents import bill_render_pdf

        for bill in queryset:
            if bill.status == Bill.Status.DRAFT:
                self.message_user(request, _("%(bill)s: a draft has no PDF.") % {"bill": bill}, messages.WARNING)
                continue
            bill_render_pdf(bill_id=bill.pk)
            self.message_user(request, _("%(bill)s: PDF rendered.") % {"bill": bill}, messages.SUCCESS)

    @admin.action(description=_("Void…"))
    def void_bills(self, request, queryset):
        from billing.bills.lifecycle import bill_void

        def void(bill: Bill, data: dict) -> str:
            bill_void(bill=bill, reason=data["reason"], actor=request.user)
            return _("%(bill)s voided.") % {"bill": bill}

        return action_with_form(
            self,
            request,
            queryset.select_related("customer"),
            form_class=VoidForm,
            title=_("Void bills"),
            intro=_(
                "Voiding cannot be undone. Invoices issued on these bills are reversed by red-letter invoices, "
                "and money already received becomes customer credit for the reissued bill."
            ),
            submit_label=_("Void these bills"),
            headings=[_("bill"), _("customer"), _("status"), _("total"), _("amount paid")],
            row=lambda b: [b, b.customer, b.get_status_display(), money_text(b.total), money_text(b.amount_paid)],
            perform=void,
        )

    @admin.action(description=_("Reissue voided bills (…-R1)"))
    def reissue_bills(self, request, queryset):
        from billing.bills.lifecycle import bill_reissue

        for bill in queryset:
            try:
                outcomes = bill_reissue(bill=bill, actor=request.user)
            except Conflict as exc:
                self.message_user(request, f"{bill}: {exc.message}", messages.ERROR)
                continue
            for outcome in outcomes:
                self.message_user(request, close_outcome_text(outcome), close_outcome_level(outcome))


@admin.register(SellerProfile)
class SellerProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "effective_from", "tax_id", "taxpayer_kind", "vat_rate", "bank_account"]
    date_hierarchy = "effective_from"
