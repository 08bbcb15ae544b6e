"""Admin: collections — dunning notices (催款) with their letters, dispute threads and the
credits carried to next bills. All read-only: the dunning run, the portal and the staff
dispute page (/staff/bills/{number}/dispute/) write them through billing.bills."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from billing.admin.shared import DOCUMENT_INLINE
from billing.bills.disputes import credit_remaining
from billing.models import BillCredit, DisputeMessage, DunningNotice
from common.admin_display import money_column, money_text


def notice_pdf_link(notice: DunningNotice) -> str:
    if not notice.number:
        return "—"
    url = reverse("documents:notice-pdf", args=[notice.bill.number, notice.number])
    return format_html('<a href="{}" target="_blank" rel="noopener">{}.pdf</a>', url, notice.number)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DunningNotice)
class DunningNoticeAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "bill",
        "customer",
        "stage",
        "status",
        "days_overdue",
        "balance_cny",
        "sent_at",
        "sent_to",
        "letter",
    ]
    list_filter = ["stage", "status", "on_day"]
    search_fields = ["number", "bill__number", "bill__customer__code", "bill__customer__name"]
    list_select_related = ["bill__customer"]
    date_hierarchy = "on_day"
    fields = [
        "number",
        "bill",
        "stage",
        "status",
        "on_day",
        "days_overdue",
        "balance_cny",
        "suspend_on",
        "sent_at",
        "sent_to",
        "letter",
    ]
    readonly_fields = fields
    balance_cny = money_column("balance", _("balance then"))

    @admin.display(description=_("customer"), ordering="bill__customer__code")
    def customer(self, obj: DunningNotice) -> str:
        return obj.bill.customer.code

    @admin.display(description=_("to"))
    def sent_to(self, obj: DunningNotice) -> str:
        return ", ".join(obj.to) or "—"

    @admin.display(description=_("letter (PDF)"))
    def letter(self, obj: DunningNotice) -> str:
        return notice_pdf_link(obj)


@admin.register(BillCredit)
class BillCreditAdmin(ReadOnlyAdmin):
    list_display = ["bill", "customer", "amount_cny", "still_to_carry", "reason", "granted_by", "created_at"]
    search_fields = ["bill__number", "customer__code", "reason"]
    list_select_related = ["bill", "customer", "granted_by"]
    fields = ["bill", "customer", "amount_cny", "still_to_carry", "reason", "granted_by", "created_at"]
    readonly_fields = fields
    amount_cny = money_column("amount", _("amount (before VAT)"))

    @admin.display(description=_("still to carry"))
    def still_to_carry(self, obj: BillCredit) -> str:
        return money_text(credit_remaining(obj))


class DunningNoticeInline(admin.TabularInline):
    model = DunningNotice
    extra = 0
    can_delete = False
    template = DOCUMENT_INLINE
    fields = ["stage", "number", "status", "on_day", "sent_at", "sent_to", "letter"]
    readonly_fields = fields
    verbose_name_plural = _("dunning notices")

    @admin.display(description=_("to"))
    def sent_to(self, obj: DunningNotice) -> str:
        return ", ".join(obj.to) or "—"

    @admin.display(description=_("letter (PDF)"))
    def letter(self, obj: DunningNotice) -> str:
        return notice_pdf_link(obj)

    def has_add_permission(self, request, obj=None):
        return False


class DisputeMessageInline(admin.TabularInline):
    model = DisputeMessage
    extra = 0
    can_delete = False
    template = DOCUMENT_INLINE
    fields = ["at", "side", "kind", "author", "text", "credit"]
    readonly_fields = fields
    verbose_name_plural = _("dispute thread")

    def has_add_permission(self, request, obj=None):
        return False
