"""Admin for VAT invoices: read-only documents, actions that call services, the register export."""

from __future__ import annotations

import csv
import io

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from common.api import Conflict
from invoices.models import Invoice, InvoiceCounter, InvoiceEvent, InvoiceLine, InvoiceRequest, RedLetterForm

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
    rows = []
    for inv in queryset.select_related("bill", "original").order_by("issued_on", "number"):
        rows.append(
            [
                inv.number or "",
                inv.issued_on.isoformat() if inv.issued_on else "",
                REGISTER_COLOURS[inv.color],
                REGISTER_TYPES[inv.invoice_type],
                REGISTER_STATUSES[inv.status],
                inv.buyer.get("name", ""),
                inv.buyer.get("tax_id", ""),
                inv.bill.number,
                f"{inv.amount.amount:.2f}",
                f"{inv.vat_rate:f}",
                f"{inv.vat.amount:.2f}",
                f"{inv.total.amount:.2f}",
                inv.original.number if inv.original_id else "",
                REGISTER_RED_REASONS.get(inv.red_reason, ""),
                inv.issuer,
            ]
        )
    return rows


class InvoiceActionForm(ActionForm):
    reason = forms.TypedChoiceField(
        label=_("red-letter reason"),
        choices=[("", "—"), (1, "1 销货退回"), (2, "2 开票有误"), (3, "3 服务中止"), (4, "4 销售折让")],
        coerce=int,
        required=False,
        empty_value=None,
    )


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    fields = [
        "position",
        "item_name",
        "tax_code",
        "tax_short_name",
        "spec",
        "unit",
        "quantity",
        "unit_price",
        "amount",
        "tax_rate",
        "tax",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class InvoiceEventInline(admin.TabularInline):
    model = InvoiceEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "actor", "data"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "issued_on",
        "customer",
        "bill",
        "color",
        "invoice_type",
        "status",
        "amount",
        "vat",
        "total",
        "original",
    ]
    list_filter = ["status", "color", "invoice_type", "backend", "issued_on", "bill__period", "customer"]
    search_fields = ["number", "order_number", "bill__number", "customer__code", "customer__name"]
    date_hierarchy = "issued_on"
    list_select_related = ["customer", "bill", "original"]
    inlines = [InvoiceLineInline, InvoiceEventInline]
    action_form = InvoiceActionForm
    actions = ["reverse_in_full", "resend", "export_register_csv", "export_register_xlsx"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Invoice._meta.fields]

    def has_add_permission(self, request):
        return False  # issued from a bill (API or bill admin), never typed in

    def has_delete_permission(self, request, obj=None):
        return False  # an issued invoice is never deleted; reverse it

    @admin.action(description=_("Reverse in full with a red-letter invoice (choose the reason above)"))
    def reverse_in_full(self, request, queryset):
        from invoices.services import invoice_red_letter

        reason = request.POST.get("reason")
        if not reason:
            self.message_user(request, _("Choose the red-letter reason first."), messages.ERROR)
            return
        for invoice in queryset:
            try:
                red = invoice_red_letter(blue=invoice, reason=int(reason), actor=request.user)
            except (ValidationError, Conflict) as exc:
                self.message_user(request, f"{invoice}: {getattr(exc, 'detail', exc)}", messages.ERROR)
                continue
            self.message_user(
                request, _("%(blue)s reversed by %(red)s.") % {"blue": invoice, "red": red}, messages.SUCCESS
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
        buffer = io.StringIO()
        buffer.write("\ufeff")  # Excel opens UTF-8 CSV with Chinese correctly only with a BOM
        writer = csv.writer(buffer)
        writer.writerow(REGISTER_COLUMNS)
        writer.writerows(register_rows(queryset))
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="invoice-register.csv"'
        return response

    @admin.action(description=_("Export the invoice register (发票登记簿) as XLSX"))
    def export_register_xlsx(self, request, queryset):
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = "发票登记簿"
        sheet.append(REGISTER_COLUMNS)
        for row in register_rows(queryset):
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(
            out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = 'attachment; filename="invoice-register.xlsx"'
        return response


@admin.register(RedLetterForm)
class RedLetterFormAdmin(admin.ModelAdmin):
    list_display = ["blue", "reason", "amount", "vat", "filed_by", "status", "red", "created_at"]
    list_filter = ["status", "reason", "filed_by"]
    search_fields = ["blue__number", "red__number"]
    readonly_fields = ["blue", "red", "reason", "amount", "vat", "filed_by", "created_by", "created_at"]


@admin.register(InvoiceRequest)
class InvoiceRequestAdmin(admin.ModelAdmin):
    list_display = ["created_at", "customer", "bill", "invoice_type", "status", "requested_by"]
    list_filter = ["status", "invoice_type"]
    search_fields = ["customer__code", "bill__number"]
    actions = ["issue_requested"]

    @admin.action(description=_("Issue the requested invoices"))
    def issue_requested(self, request, queryset):
        from invoices.services import invoice_issue

        for req in queryset.filter(status=InvoiceRequest.Status.OPEN).select_related("bill"):
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
            req.status = InvoiceRequest.Status.ISSUED
            req.save(update_fields=["status"])
            self.message_user(
                request, _("%(req)s: issued %(n)d invoice(s).") % {"req": req, "n": len(invoices)}, messages.SUCCESS
            )


@admin.register(InvoiceCounter)
class InvoiceCounterAdmin(admin.ModelAdmin):
    list_display = ["seller_tax_id", "year", "last_sequence"]
    readonly_fields = ["seller_tax_id", "year", "last_sequence"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
