"""Bills, their lines and audit trail, payments, customer credit and the seller's profile."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from common.admin_display import money_text
from common.vat import DEFAULT_VAT_RATE
from customers.models import Customer, Project


class Bill(models.Model):
    """A monthly statement (对账单). Built from rollups; immutable once issued.

    A draft is a bill that could not be issued yet (``hold_reason`` says why); re-running the
    close rebuilds and issues it once the cause is fixed. A wrong issued bill is voided and
    reissued with a ``-R1``, ``-R2`` … number.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")
        PARTIALLY_PAID = "partially_paid", _("Partially paid")
        PAID = "paid", _("Paid")
        OVERDUE = "overdue", _("Overdue")
        VOID = "void", _("Void")

    class Confirmation(models.TextChoices):
        PENDING = "pending", _("Awaiting confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        DISPUTED = "disputed", _("Disputed")

    OPEN_STATUSES = (Status.ISSUED, Status.PARTIALLY_PAID, Status.OVERDUE)

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="bills")
    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bills",
        help_text=_("Set when the contract bills each project separately."),
    )
    contract = models.ForeignKey(
        "customers.Contract", verbose_name=_("contract"), null=True, on_delete=models.PROTECT, related_name="bills"
    )
    period = models.DateField(_("period"))
    revision = models.PositiveSmallIntegerField(_("revision"), default=0)
    replaces = models.OneToOneField(
        "self", verbose_name=_("replaces"), null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    number = models.CharField(_("number"), max_length=80, unique=True, null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    hold_reason = models.TextField(_("why it is held"), blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY", editable=False)
    exchange_rate = models.DecimalField(_("exchange rate"), max_digits=14, decimal_places=6, null=True, blank=True)
    discount_percent = models.DecimalField(_("discount %"), max_digits=5, decimal_places=2, default=0)
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=4, default=0)
    subtotal = MoneyField(_("subtotal"), max_digits=14, decimal_places=2, default=0, default_currency="CNY")
    vat = MoneyField(_("VAT"), max_digits=14, decimal_places=2, default=0, default_currency="CNY")
    total = MoneyField(_("total"), max_digits=14, decimal_places=2, default=0, default_currency="CNY")
    amount_paid = MoneyField(_("amount paid"), max_digits=14, decimal_places=2, default=0, default_currency="CNY")
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    seller = models.JSONField(_("seller details"), default=dict, blank=True)
    buyer = models.JSONField(_("buyer details"), default=dict, blank=True)
    confirmation = models.CharField(
        _("statement confirmation"), max_length=10, choices=Confirmation.choices, default=Confirmation.PENDING
    )
    confirmation_note = models.TextField(_("confirmation note"), blank=True)
    confirmed_at = models.DateTimeField(_("confirmed/disputed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed/disputed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    pdf = models.FileField(_("PDF"), upload_to="bills/%Y/%m/", blank=True)
    pdf_rendered_at = models.DateTimeField(_("PDF rendered"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("last reminder"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("bill")
        verbose_name_plural = _("bills")
        ordering = ["-period", "customer__code", "project__code"]
        constraints = [
            # One live bill per (customer, project, period): concurrent closes cannot both create one.
            models.UniqueConstraint(
                fields=["customer", "project", "period"],
                condition=~Q(status="void"),
                name="bill_one_live_per_period",
                nulls_distinct=False,
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="bill_status_due")]

    def __str__(self) -> str:
        if self.number:
            return self.number
        return _("draft #%(pk)s (%(customer)s %(period)s)") % {
            "pk": self.pk,
            "customer": self.customer.code,
            "period": f"{self.period:%Y-%m}",
        }

    @property
    def is_issued(self) -> bool:
        return self.status not in (self.Status.DRAFT,)

    @property
    def balance(self):
        return self.total - self.amount_paid

    def is_overdue_on(self, day) -> bool:
        """Overdue on ``day``: marked so, or still open past its due date (the daily job
        that marks bills overdue has not run yet today)."""
        return self.status == self.Status.OVERDUE or (
            self.status in self.OPEN_STATUSES and self.due_on is not None and self.due_on < day
        )


class BillLine(models.Model):
    class Kind(models.TextChoices):
        USAGE = "usage", _("Usage")
        ADJUSTMENT = "adjustment", _("Prior-period adjustment")
        MINIMUM_COMMITMENT = "minimum_commitment", _("Minimum commitment top-up")
        SERVICE_FEE = "service_fee", _("Monthly service fee")
        # A correction granted on a disputed bill, carried to the customer's next bill:
        # negative, never an edit of the bill it corrects (billing.bills.disputes).
        CREDIT = "credit", _("Credit (correction of an earlier bill)")

    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    period = models.DateField(_("usage period"))
    project = models.ForeignKey(
        Project, verbose_name=_("project"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    provider = models.CharField(_("provider"), max_length=40, blank=True)
    model = models.CharField(_("model"), max_length=100, blank=True)
    # A usage or adjustment line's price context (CONTRACT.md "Bills and summaries"):
    # ``standard`` or the non-default values joined by "+" (billing.pricing.cost.variant_name).
    variant = models.CharField(_("variant"), max_length=50, default="standard")
    requests = models.BigIntegerField(_("requests"), default=0)
    input_tokens = models.BigIntegerField(_("input tokens"), default=0)
    cached_input_tokens = models.BigIntegerField(_("cached input tokens"), default=0)
    output_tokens = models.BigIntegerField(_("output tokens"), default=0)
    # The sums of the added counts (billing.metering.rollups.UNIT_FIELDS) that are not zero.
    units = models.JSONField(_("units"), default=dict, blank=True)
    costs = models.JSONField(_("cost by price currency (unrounded)"), default=dict, blank=True)
    exchange_rates = models.JSONField(_("rates used"), default=dict, blank=True)
    discount_percent = models.DecimalField(_("discount %"), max_digits=5, decimal_places=2, default=0)
    price_versions = ArrayField(models.BigIntegerField(), verbose_name=_("price versions"), default=list, blank=True)
    amount = MoneyField(_("amount"), max_digits=14, decimal_places=2, default=0, default_currency="CNY")
    position = models.PositiveIntegerField(default=0)
    # A credit line: the reason and the correction it carries (see BillCredit).
    note = models.CharField(_("note"), max_length=500, blank=True)
    credit = models.ForeignKey(
        "billing.BillCredit",
        verbose_name=_("credit granted"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lines",
    )

    class Meta:
        verbose_name = _("bill line")
        verbose_name_plural = _("bill lines")
        ordering = ["bill", "position"]

    def __str__(self) -> str:
        return f"{self.bill} · {self.get_kind_display()} · {self.model or '—'}"


class BillEvent(models.Model):
    """The audit trail of a bill: every state change, who and when. Written only by
    ``billing.bills.events.bill_event``."""

    class Kind(models.TextChoices):
        ISSUED = "issued", _("issued")
        HELD = "held", _("held in draft")
        PDF_RENDERED = "pdf_rendered", _("PDF rendered")
        EMAILED = "emailed", _("e-mailed")
        EMAIL_SKIPPED = "email_skipped", _("e-mail skipped")
        PAYMENT = "payment", _("payment recorded")
        CREDIT_APPLIED = "credit_applied", _("credit applied")
        OVERDUE = "overdue", _("became overdue")
        REMINDER_SENT = "reminder_sent", _("reminder sent")
        CONFIRMED = "confirmed", _("statement confirmed")
        DISPUTED = "disputed", _("statement disputed")
        VOID = "void", _("voided")
        NOTICE_SENT = "notice_sent", _("dunning notice sent")
        DISPUTE_MESSAGE = "dispute_message", _("dispute message")
        DISPUTE_RESOLVED = "dispute_resolved", _("dispute resolved")
        CREDIT_GRANTED = "credit_granted", _("credit granted on the next bill")

    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("event"), max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("bill event")
        verbose_name_plural = _("bill events")
        ordering = ["bill", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.bill} {self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class Payment(models.Model):
    """Money received by bank transfer (对公转账), or customer credit applied to a bill."""

    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CREDIT = "credit", _("Customer credit")
        DEPOSIT = "deposit", _("Deposit (押金)")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="payments"
    )
    bill = models.ForeignKey(
        Bill, verbose_name=_("bill"), null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    method = models.CharField(_("method"), max_length=16, choices=Method.choices, default=Method.BANK_TRANSFER)
    amount = MoneyField(_("amount"), max_digits=14, decimal_places=2, default_currency="CNY")
    applied = MoneyField(
        _("applied to the bill"),
        max_digits=14,
        decimal_places=2,
        default=0,
        default_currency="CNY",
        help_text=_("The part that paid the bill; any rest became customer credit."),
    )
    received_on = models.DateField(_("received on"))
    reference = models.CharField(_("bank reference"), max_length=100, blank=True)
    # The reference as compared: NFKC and case-folded, so ＵＳＤ-1, usd-1 and USD-1 are one transfer.
    reference_key = models.CharField(max_length=100, blank=True, editable=False)
    # The API client's Idempotency-Key header, when it sent one: a retry answers the first result.
    idempotency_key = models.CharField(max_length=255, blank=True, editable=False)
    payer_name = models.CharField(_("payer name"), max_length=200, blank=True)
    payer_mismatch = models.BooleanField(
        _("payer differs from customer"),
        default=False,
        help_text=_("三流一致: the payer is not the invoiced entity; review it."),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_on", "-pk"]
        constraints = [
            # A bank reference is recorded once per customer and bill: re-posting the same transfer
            # is a no-op (one transfer may pay several bills: one payment per bill it paid).
            models.UniqueConstraint(
                fields=["customer", "reference_key", "bill"],
                condition=~Q(reference_key=""),
                name="payment_reference_unique",
                nulls_distinct=False,
            ),
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="payment_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{money_text(self.amount)} {self.reference or self.get_method_display()} ({self.customer.code})"

    def save(self, *args, **kwargs):
        self.reference_key = self.key_of(self.reference)
        super().save(*args, **kwargs)

    @staticmethod
    def key_of(reference: str) -> str:
        """A bank reference as compared: NFKC (full-width ＵＳＤ-1 is USD-1), case-folded, trimmed."""
        return unicodedata.normalize("NFKC", reference).casefold().strip()


class CreditEntry(models.Model):
    """Customer credit ledger: + overpayments, − credit applied to bills. Balance = sum.

    A deposit (押金) is credit ``held``: on the ledger, never applied to a bill by itself."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="credit_entries"
    )
    amount = MoneyField(_("amount"), max_digits=14, decimal_places=2, default_currency="CNY")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_entries")
    bill = models.ForeignKey(Bill, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_entries")
    held = models.BooleanField(_("held (deposit)"), default=False)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("credit entry")
        verbose_name_plural = _("customer credit")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.customer.code} {money_text(self.amount)}"


class SellerProfile(models.Model):
    """Our own company as printed on bills and invoices, with effective dates.

    The profile in force on the issue date is frozen onto each bill and invoice.
    """

    class TaxpayerKind(models.TextChoices):
        GENERAL = "general", _("General taxpayer (一般纳税人)")
        SMALL = "small", _("Small-scale taxpayer (小规模纳税人)")

    effective_from = models.DateField(_("effective from"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    tax_id = models.CharField(_("unified social credit code"), max_length=20)
    province_code = models.CharField(
        _("tax bureau province code"),
        max_length=2,
        help_text=_("Two digits, e.g. 31 Shanghai, 11 Beijing, 44 Guangdong."),
    )
    address = models.CharField(_("address"), max_length=300)
    phone = models.CharField(_("phone"), max_length=40)
    bank_name = models.CharField(_("bank"), max_length=200)
    bank_account = models.CharField(_("bank account"), max_length=64)
    email = models.EmailField(_("billing contact e-mail"), blank=True)
    taxpayer_kind = models.CharField(
        _("taxpayer kind"), max_length=10, choices=TaxpayerKind.choices, default=TaxpayerKind.GENERAL
    )
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=4, default=DEFAULT_VAT_RATE)
    tax_classification_code = models.CharField(
        _("tax classification code"),
        max_length=19,
        default="3040201990000000000",
        help_text=_("19-digit 税收分类编码."),
    )
    tax_classification_name = models.CharField(
        _("tax classification short name"),
        max_length=40,
        default="其他软件服务",
        help_text=_("Printed as *简称* before the item."),
    )
    item_name = models.CharField(_("invoice item name"), max_length=100, default="大模型API调用服务")
    issuing_clerk = models.CharField(_("issuing clerk (开票人)"), max_length=40)
    invoice_amount_limit = models.DecimalField(
        _("invoice amount limit"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Largest amount (excl. VAT) on one invoice; larger bills are split. Empty: no limit."),
    )

    class Meta:
        verbose_name = _("seller profile")
        verbose_name_plural = _("seller profiles")
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.name} (≥ {self.effective_from})"

    def snapshot(self) -> dict:
        return {
            "name": self.name,
            "tax_id": self.tax_id,
            "address": self.address,
            "phone": self.phone,
            "bank_name": self.bank_name,
            "bank_account": self.bank_account,
            "email": self.email,
            "province_code": self.province_code,
        }
