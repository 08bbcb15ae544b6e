"""Admin for VAT invoices: read-only documents, actions that call services, the register export."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from billing.admin.bills import BillAdmin
from billing.models import Bill
from common.admin_display import details_html, labelled_filter, money_column, money_text, number_text, party_html
from common.admin_forms import action_with_form
from common.admin_links import document_links
from common.errors import Conflict
from common.exports import csv_response, xlsx_response
from customers.models import InvoiceTitle, InvoiceType
from invoices.models import (
    Invoice,
    InvoiceCounter,
    InvoiceEvent,
    InvoiceLine,
    InvoiceRequest,
    RedLetterForm,
    RedReason,
)
from invoices.services import PARTIAL_RED_REASONS

# The register (发票登记簿) is the accountant's tax record, a Chinese document whatever the
# language of the admin (like its sheet title): column names and values are written in Chinese.
REGISTER_COLUMNS = [
    "发票号码",
    "开票日期",
    "发票颜色",
    "发票类型",
    "状态",
    "购买方",
    "购买方税号",
    "账单",
    "金额（不含税）",
    "税率",
    "税额",
    "价税合计",
    "原蓝字发票",
    "红字发票原因",
    "开票人",
]
REGISTER_COLOURS = {"blue": "蓝字", "red": "红字"}
REGISTER_TYPES = {"special": "增值税专用发票", "ordinary": "普通发票"}
REGISTER_STATUSES = {
    "pending": "待开具",
    "issued": "已开具",
    "partially_reversed": "部分红冲",
    "reversed": "已全额红冲",
    "failed": "开具失败",
}
REGISTER_RED_REASONS = {1: "销货退回", 2: "开票有误", 3: "服务中止", 4: "销售折让"}


def register_rows(queryset) -> list[list]:
    """The register's rows as typed values (dates, Money, Decimal): the XLSX keeps them as
    numbers and dates (common.exports writes both files)."""
    rows = []
    for inv in queryset.select_related("bill", "original").order_by("issued_on", "number"):
        rows.append(
            [
                inv.number or "",
                inv.issued_on,
                REGISTER_COLOURS[inv.color],
                REGISTER_TYPES[inv.invoice_type],
                REGISTER_STATUSES[inv.status],
                inv.buyer.get("name", ""),
                inv.buyer.get("tax_id", ""),
                inv.bill.number,
                inv.amount,
                inv.vat_rate,
                inv.vat,
                inv.total,
                inv.original.number if inv.original_id else "",
                REGISTER_RED_REASONS.get(inv.red_reason, ""),
                inv.issuer,
            ]
        )
    return rows


class RedLetterActionForm(forms.Form):
    # No reason is preselected: the clerk must choose one.
    reason = forms.TypedChoiceField(
        label=_("red-letter reason"), choices=[("", "—"), *RedReason.choices], coerce=int, empty_value=None
    )
    amount = forms.DecimalField(
        label=_("amount to reverse, before VAT (CNY)"),
        required=False,
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text=_(
            "Leave empty to reverse what is left of each invoice in full. A partial amount is allowed only "
            "for a sales return (1) or a discount (4), and for one invoice at a time."
        ),
    )
    note = forms.CharField(label=_("note"), required=False, max_length=300)

    def __init__(self, *args, selected: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self.selected = selected

    def clean(self):
        data = super().clean()
        if data.get("amount") is not None:
            if self.selected > 1:
                self.add_error("amount", _("A partial amount reverses one invoice: select only that invoice."))
            elif data.get("reason") not in PARTIAL_RED_REASONS:
                self.add_error(
                    "amount", _("A partial reversal is allowed only for a sales return (1) or a discount (4).")
                )
        return data


class IssueInvoiceForm(forms.Form):
    invoice_type = forms.ChoiceField(
        label=_("invoice type"),
        required=False,
        choices=[("", _("as the contract says"))] + list(InvoiceType.choices),
    )
    title = forms.ModelChoiceField(
        label=_("invoice title (发票抬头)"),
        queryset=InvoiceTitle.objects.none(),
        required=False,
        empty_label=_("the customer's default title"),
    )
    per_model = forms.BooleanField(label=_("one invoice line per model"), required=False)

    def __init__(self, *args, customers: list, **kwargs):
        super().__init__(*args, **kwargs)
        if len(customers) == 1:
            self.fields["title"].queryset = InvoiceTitle.objects.filter(customer=customers[0])
        else:
            del self.fields["title"]  # several customers: each bill gets its customer's default title


INVOICE_EVENT_LABELS = {
    "created": pgettext_lazy("invoice event", "created"),
    "submitted": _("submitted to the platform"),
    "issued": pgettext_lazy("invoice event", "issued"),
    "failed": _("failed at the platform"),
    "platform_unavailable": _("platform unavailable (will retry)"),
    "platform_result_rejected": _("platform answer rejected"),
    "reversed": _("reversed in full"),
    "partially_reversed": _("partially reversed"),
    "emailed": _("e-mailed"),
}
BACKEND_LABELS = {
    "local": _("local (sample invoices, not a tax authority)"),
    "manual": _("manual (tax bureau e-invoice platform)"),
    "nuonuo": _("Nuonuo (诺诺) service provider"),
}
RED_REASON_LABELS = dict(RedReason.choices)
DOCUMENT_INLINE = "admin/edit_inline/tabular_document.html"


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    template = DOCUMENT_INLINE
    fields = [
        "line_number",
        "item_name",
        "tax_code",
        "tax_short_name",
        "spec",
        "unit",
        "quantity_text",
        "unit_price_text",
        "amount_cny",
        "tax_rate",
        "tax_cny",
    ]
    readonly_fields = fields
    amount_cny, tax_cny = (money_column(f, InvoiceLine._meta.get_field(f).verbose_name) for f in ("amount", "tax"))

    @admin.display(description=_("line"))
    def line_number(self, obj: InvoiceLine) -> int:
        return obj.position + 1

    @admin.display(description=_("quantity"))
    def quantity_text(self, obj: InvoiceLine) -> str:
        return number_text(obj.quantity)

    @admin.display(description=_("unit price"))
    def unit_price_text(self, obj: InvoiceLine) -> str:
        return number_text(obj.unit_price)

    def has_add_permission(self, request, obj=None):
        return False


class InvoiceEventInline(admin.TabularInline):
    model = InvoiceEvent
    extra = 0
    can_delete = False
    template = DOCUMENT_INLINE
    fields = ["at", "event", "actor_name", "details"]
    readonly_fields = fields

    @admin.display(description=_("event"))
    def event(self, obj: InvoiceEvent) -> str:
        return str(INVOICE_EVENT_LABELS.get(obj.kind, obj.kind))

    @admin.display(description=_("by"))
    def actor_name(self, obj: InvoiceEvent) -> str:
        return str(obj.actor) if obj.actor_id else "—"

    @admin.display(description=_("details"))
    def details(self, obj: InvoiceEvent) -> str:
        return details_html(obj.data, values=RED_REASON_LABELS)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "invoiced_on",
        "customer",
        "bill",
        "color",
        "invoice_type",
        "status",
        "amount_cny",
        "vat_cny",
        "total_cny",
        "original",
        "pdf_links",
    ]
    backend_filter = labelled_filter("backend", _("issuing backend"), BACKEND_LABELS)
    list_filter = ["status", "color", "invoice_type", backend_filter, "issued_on", "bill__period", "customer"]
    search_fields = ["number", "order_number", "bill__number", "customer__code", "customer__name"]
    date_hierarchy = "issued_on"
    list_select_related = ["customer", "bill", "original"]
    inlines = [InvoiceLineInline, InvoiceEventInline]
    actions = ["reverse_in_full", "resend", "export_register_csv", "export_register_xlsx"]

    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "color",
                    "invoice_type",
                    "status",
                    "invoiced_on",
                    "bill",
                    "customer",
                    "title",
                    "original",
                    "red_reason",
                    "issuing_backend",
                    "pdf_links",
                ]
            },
        ),
        (_("Amounts"), {"fields": ["vat_rate", "amount_cny", "vat_cny", "total_cny"]}),
        (_("Parties (frozen when invoiced)"), {"fields": ["buyer_details", "seller_details", "remark", "issuer"]}),
        (
            _("Platform"),
            {
                "fields": [
                    "order_number",
                    "legacy_code",
                    "legacy_number",
                    "platform_file_links",
                    "failure",
                    "emailed_at",
                    "created_by",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [name for _title, opts in self.fieldsets for name in opts["fields"]]

    def get_fieldsets(self, request, obj=None):
        present = {f.name for f in Invoice._meta.fields} | {
            "invoiced_on",
            "issuing_backend",
            "buyer_details",
            "seller_details",
            "pdf_links",
            "platform_file_links",
            "amount_cny",
            "vat_cny",
            "total_cny",
        }
        return [(title, {"fields": [n for n in opts["fields"] if n in present]}) for title, opts in self.fieldsets]

    def has_change_permission(self, request, obj=None):
        # An invoice is a document: its page is read-only ("view"); actions call the services.
        return obj is None and super().has_change_permission(request, obj)

    amount_cny = money_column("amount", _("amount excl. VAT"))
    vat_cny = money_column("vat", _("VAT"))
    total_cny = money_column("total", _("total incl. VAT"))

    @admin.display(description=pgettext_lazy("invoice", "issued on"), ordering="issued_on")
    def invoiced_on(self, obj: Invoice):
        return obj.issued_on

    @admin.display(description=_("issuing backend"))
    def issuing_backend(self, obj: Invoice) -> str:
        return str(BACKEND_LABELS.get(obj.backend, obj.backend))

    @admin.display(description=_("buyer (frozen)"))
    def buyer_details(self, obj: Invoice) -> str:
        return party_html(obj.buyer)

    @admin.display(description=_("seller (frozen)"))
    def seller_details(self, obj: Invoice) -> str:
        return party_html(obj.seller)

    # The files as links to the signed-in document views (procurement/documents.py), never to /media/.
    @admin.display(description=_("PDF"))
    def pdf_links(self, obj: Invoice) -> str:
        return document_links("documents:invoice-pdf", obj.number)

    @admin.display(description=_("platform file (PDF/OFD/XML)"))
    def platform_file_links(self, obj: Invoice) -> str:
        if not obj.platform_file:
            return "—"
        return document_links("documents:invoice-platform-file", obj.number or obj.order_number)

    def has_add_permission(self, request):
        return False  # issued from a bill (API or bill admin), never typed in

    def has_delete_permission(self, request, obj=None):
        return False  # an issued invoice is never deleted; reverse it

    @admin.action(description=_("Reverse with a red-letter invoice…"))
    def reverse_in_full(self, request, queryset):
        from invoices.services import invoice_red_letter

        def reverse(invoice: Invoice, data: dict) -> str:
            red = invoice_red_letter(
                blue=invoice, reason=data["reason"], amount=data["amount"], note=data["note"], actor=request.user
            )
            return _("%(blue)s reversed by %(red)s.") % {"blue": invoice, "red": red}

        return action_with_form(
            self,
            request,
            queryset.select_related("customer", "bill"),
            form_class=RedLetterActionForm,
            form_kwargs={"selected": queryset.count()},
            title=_("Reverse invoices with red-letter invoices"),
            intro=_(
                "A red-letter invoice (红字发票) is a new, negative invoice; the blue invoice is never edited. "
                "With a tax platform backend the red invoice waits until the confirmation form is confirmed."
            ),
            submit_label=_("Issue the red-letter invoices"),
            headings=[_("invoice"), _("customer"), _("bill"), _("status"), _("total incl. VAT")],
            row=lambda i: [i, i.customer, i.bill, i.get_status_display(), money_text(i.total)],
            perform=reverse,
        )

    @admin.action(description=_("Re-send by e-mail"))
    def resend(self, request, queryset):
        from invoices.documents import invoice_send

        for invoice in queryset.exclude(status=Invoice.Status.PENDING):
            Invoice.objects.filter(pk=invoice.pk).update(emailed_at=None)
            invoice_send(invoice_id=invoice.pk)
            self.message_user(request, _("%(invoice)s sent.") % {"invoice": invoice}, messages.SUCCESS)

    @admin.action(description=_("Export the invoice register (发票登记簿) as CSV"))
    def export_register_csv(self, request, queryset):
        return csv_response(header=REGISTER_COLUMNS, rows=register_rows(queryset), filename="invoice-register.csv")

    @admin.action(description=_("Export the invoice register (发票登记簿) as XLSX"))
    def export_register_xlsx(self, request, queryset):
        return xlsx_response(
            title="发票登记簿", header=REGISTER_COLUMNS, rows=register_rows(queryset), filename="invoice-register.xlsx"
        )


@admin.register(RedLetterForm)
class RedLetterFormAdmin(admin.ModelAdmin):
    list_display = ["blue", "reason", "amount", "vat", "filed_by", "status", "red", "created_at"]
    list_filter = ["status", "reason", "filed_by"]
    search_fields = ["blue__number", "red__number"]
    readonly_fields = [
        "blue",
        "red",
        "reason",
        "amount",
        "vat",
        "filed_by",
        "status",
        "note",
        "created_by",
        "created_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False  # filed by the red-letter service, never typed in

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InvoiceRequest)
class InvoiceRequestAdmin(admin.ModelAdmin):
    """Customers ask for invoices (portal, API); finance issues them from here or from the bill.
    A request is never typed in or edited by hand: its status follows the invoices issued."""

    list_display = ["created_at", "customer", "bill", "invoice_type", "title", "status", "requested_by"]
    list_filter = ["status", "invoice_type"]
    search_fields = ["customer__code", "bill__number"]
    list_select_related = ["customer", "bill", "title", "requested_by"]
    actions = ["issue_requested"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in InvoiceRequest._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    @admin.action(description=_("Issue the requested invoices"))
    def issue_requested(self, request, queryset):
        from invoices.services import invoice_issue

        for req in queryset.filter(status=InvoiceRequest.Status.OPEN).select_related("bill"):
            req.refresh_from_db(fields=["status"])
            if req.status != InvoiceRequest.Status.OPEN:
                continue  # answered by the invoice of another request for the same bill
            try:
                invoices = invoice_issue(
                    bill=req.bill, invoice_type=req.invoice_type, title=req.title, actor=request.user
                )
            except (ValidationError, Conflict) as exc:
                self.message_user(
                    request,
                    f"{req}: {getattr(exc, 'detail', '; '.join(getattr(exc, 'messages', [str(exc)])))}",
                    messages.ERROR,
                )
                continue
            self.message_user(
                request, _("%(req)s: issued %(n)d invoice(s).") % {"req": req, "n": len(invoices)}, messages.SUCCESS
            )


@admin.register(InvoiceCounter)
class InvoiceCounterAdmin(admin.ModelAdmin):
    list_display = ["seller_tax_id", "year", "last_sequence"]
    readonly_fields = ["seller_tax_id", "year", "last_sequence"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


# --- Issuing from the bill -----------------------------------------------------------------
# billing cannot import invoices (dependencies point invoices → billing), so the bill admin
# gains its invoicing action and its invoices here.


MONEY_FIELDS = ("amount", "vat", "total")
MONEY_COLUMNS = ("amount_cny", "vat_cny", "total_cny")


class BillInvoiceInline(admin.TabularInline):
    model = Invoice
    fk_name = "bill"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["number", "color", "invoice_type", "status", "issued_on", *MONEY_COLUMNS, "original"]
    readonly_fields = fields
    amount_cny, vat_cny, total_cny = (money_column(f, Invoice._meta.get_field(f).verbose_name) for f in MONEY_FIELDS)
    verbose_name_plural = _("VAT invoices")

    def has_add_permission(self, request, obj=None):
        return False


admin.site.unregister(Bill)


@admin.register(Bill)
class InvoicingBillAdmin(BillAdmin):
    inlines = [*BillAdmin.inlines, BillInvoiceInline]
    actions = [*BillAdmin.actions, "issue_invoice"]

    @admin.action(description=_("Issue VAT invoice…"))
    def issue_invoice(self, request, queryset):
        from invoices.services import bill_invoiceable, invoice_issue

        queryset = queryset.select_related("customer", "contract")
        customers = sorted({bill.customer for bill in queryset}, key=lambda c: c.code)

        def issue(bill: Bill, data: dict) -> str:
            invoices = invoice_issue(
                bill=bill,
                invoice_type=data["invoice_type"] or None,
                title=data.get("title"),
                per_model=data["per_model"],
                actor=request.user,
            )
            return _("%(bill)s: issued %(numbers)s.") % {
                "bill": bill,
                "numbers": ", ".join(
                    i.number or _("%(order)s (pending)") % {"order": i.order_number} for i in invoices
                ),
            }

        def row(bill: Bill) -> list:
            left = bill_invoiceable(bill)
            terms = bill.contract.get_invoice_type_display() if bill.contract else "—"
            return [
                bill,
                bill.customer,
                bill.get_status_display(),
                money_text(bill.total),
                money_text(left.total),
                terms,
            ]

        return action_with_form(
            self,
            request,
            queryset,
            form_class=IssueInvoiceForm,
            form_kwargs={"customers": customers},
            title=_("Issue VAT invoices"),
            intro=_(
                "Each bill is invoiced for what is not invoiced yet (split where the seller's amount limit applies)."
            ),
            submit_label=_("Issue the invoices"),
            headings=[_("bill"), _("customer"), _("status"), _("total"), _("left to invoice"), _("contract's type")],
            row=row,
            perform=issue,
        )
