"""VAT invoices (发票): numbered documents for bills, reversed only by red-letter invoices.

Rules: ../shared/domain/fapiao.md. An issued invoice is never edited or deleted; a 数电票
cannot be voided, so every correction is a linked red (negative) invoice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from djmoney.models.fields import MoneyField

from billing.models import Bill
from customers.models import Customer, InvoiceTitle, InvoiceType


class RedReason(models.IntegerChoices):
    RETURN = 1, _("Sales return (销货退回)")
    ERROR = 2, _("Issued in error (开票有误)")
    SERVICE_STOPPED = 3, _("Service stopped (服务中止)")
    DISCOUNT = 4, _("Sales discount (销售折让)")


PARTIAL_RED_REASONS = (RedReason.RETURN, RedReason.DISCOUNT)


class InvoiceCounter(models.Model):
    """The last sequence used per seller and year; locked in the issuing transaction so
    numbers have no gaps and no duplicates."""

    seller_tax_id = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    last_sequence = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("invoice number counter")
        verbose_name_plural = _("invoice number counters")
        constraints = [models.UniqueConstraint(fields=["seller_tax_id", "year"], name="invoice_counter_unique")]

    def __str__(self) -> str:
        return f"{self.seller_tax_id or '—'} {self.year}: {self.last_sequence}"


class Invoice(models.Model):
    class Color(models.TextChoices):
        BLUE = "blue", _("Blue (normal)")
        RED = "red", _("Red (reversal)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending at the issuing platform")
        ISSUED = "issued", pgettext_lazy("invoice status", "Issued")
        PARTIALLY_REVERSED = "partially_reversed", _("Partially reversed")
        REVERSED = "reversed", _("Reversed")
        FAILED = "failed", _("Failed at the issuing platform")

    number = models.CharField(_("invoice number"), max_length=20, unique=True, null=True, blank=True)
    order_number = models.CharField(
        _("our order number"), max_length=40, unique=True, help_text=_("Idempotency key sent to the issuing platform.")
    )
    bill = models.ForeignKey(Bill, verbose_name=_("bill"), on_delete=models.PROTECT, related_name="invoices")
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="invoices"
    )
    title = models.ForeignKey(
        InvoiceTitle,
        verbose_name=_("invoice title"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    color = models.CharField(_("colour"), max_length=4, choices=Color.choices, default=Color.BLUE)
    invoice_type = models.CharField(_("invoice type"), max_length=10, choices=InvoiceType.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    backend = models.CharField(_("issuing backend"), max_length=20, default="local")
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=4)
    amount = MoneyField(_("amount excl. VAT"), max_digits=14, decimal_places=2, default_currency="CNY")
    vat = MoneyField(_("VAT"), max_digits=14, decimal_places=2, default_currency="CNY")
    total = MoneyField(_("total incl. VAT"), max_digits=14, decimal_places=2, default_currency="CNY")
    buyer = models.JSONField(_("buyer (frozen)"), default=dict)
    seller = models.JSONField(_("seller (frozen)"), default=dict)
    remark = models.CharField(_("remark (备注)"), max_length=200, blank=True)
    issuer = models.CharField(_("issuing clerk (开票人)"), max_length=40, blank=True)
    original = models.ForeignKey(
        "self",
        verbose_name=_("original blue invoice"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversals",
    )
    red_reason = models.PositiveSmallIntegerField(
        _("red-letter reason"), choices=RedReason.choices, null=True, blank=True
    )
    legacy_code = models.CharField(_("legacy invoice code (发票代码)"), max_length=12, blank=True)
    legacy_number = models.CharField(_("legacy invoice number (发票号码)"), max_length=8, blank=True)
    pdf = models.FileField(_("PDF"), upload_to="invoices/%Y/%m/", blank=True)
    platform_file = models.FileField(
        _("platform file (PDF/OFD/XML)"),
        upload_to="invoices/platform/%Y/%m/",
        blank=True,
        help_text=_("The file issued by the tax platform (manual or provider backend)."),
    )
    failure = models.TextField(_("platform error"), blank=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("VAT invoice")
        verbose_name_plural = _("VAT invoices")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(color="blue", amount__gte=0, original__isnull=True)
                    | Q(color="red", amount__lte=0, original__isnull=False)
                ),
                name="invoice_sign_matches_colour",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"{self.order_number} ({self.get_status_display()})"


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    item_name = models.CharField(_("item (项目名称)"), max_length=100)
    tax_code = models.CharField(_("tax classification code"), max_length=19)
    tax_short_name = models.CharField(_("tax classification short name"), max_length=40)
    spec = models.CharField(_("specification (规格型号)"), max_length=100, blank=True)
    unit = models.CharField(_("unit (单位)"), max_length=20, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=20, decimal_places=8, null=True, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=20, decimal_places=8, null=True, blank=True)
    amount = MoneyField(_("amount excl. VAT"), max_digits=14, decimal_places=2, default_currency="CNY")
    tax_rate = models.DecimalField(_("tax rate"), max_digits=5, decimal_places=4)
    tax = MoneyField(_("tax"), max_digits=14, decimal_places=2, default_currency="CNY")

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice", "position"]

    def __str__(self) -> str:
        return f"*{self.tax_short_name}*{self.item_name}"

    @property
    def printed_name(self) -> str:
        return f"*{self.tax_short_name}*{self.item_name}"

    @staticmethod
    def _plain(value) -> str:
        """A decimal as printed on an invoice: no exponent, no trailing zeros (1000, 256.43)."""
        if value is None:
            return ""
        text = f"{value:f}"
        return text.rstrip("0").rstrip(".") if "." in text else text

    @property
    def printed_quantity(self) -> str:
        return self._plain(self.quantity)

    @property
    def printed_unit_price(self) -> str:
        return self._plain(self.unit_price)


class RedLetterForm(models.Model):
    """红字发票信息确认单: the confirmation that precedes a red invoice."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        AWAITING = "awaiting_counterparty", _("Awaiting the counterparty")
        CONFIRMED = "confirmed", _("Confirmed")
        RED_ISSUED = "red_issued", _("Red invoice issued")
        REJECTED = "rejected", _("Rejected")
        REVOKED = "revoked", _("Revoked")

    blue = models.ForeignKey(
        Invoice, verbose_name=_("blue invoice"), on_delete=models.PROTECT, related_name="red_forms"
    )
    red = models.OneToOneField(
        Invoice, verbose_name=_("red invoice"), null=True, blank=True, on_delete=models.PROTECT, related_name="red_form"
    )
    reason = models.PositiveSmallIntegerField(_("reason"), choices=RedReason.choices)
    amount = MoneyField(_("amount excl. VAT (positive)"), max_digits=14, decimal_places=2, default_currency="CNY")
    vat = MoneyField(_("VAT (positive)"), max_digits=14, decimal_places=2, default_currency="CNY")
    filed_by = models.CharField(
        _("filed by"), max_length=6, choices=[("seller", _("Seller")), ("buyer", _("Buyer"))], default="seller"
    )
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.DRAFT)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("red-letter confirmation form")
        verbose_name_plural = _("red-letter confirmation forms")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.blue} · {self.get_reason_display()} · {self.get_status_display()}"


class InvoiceRequest(models.Model):
    """A customer asks for an invoice on a bill (portal/API); finance issues it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ISSUED = "issued", pgettext_lazy("invoice request status", "Issued")
        REJECTED = "rejected", _("Rejected")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="invoice_requests"
    )
    bill = models.ForeignKey(Bill, verbose_name=_("bill"), on_delete=models.CASCADE, related_name="invoice_requests")
    invoice_type = models.CharField(_("invoice type"), max_length=10, choices=InvoiceType.choices)
    title = models.ForeignKey(
        InvoiceTitle, verbose_name=_("invoice title"), null=True, blank=True, on_delete=models.SET_NULL
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("invoice request")
        verbose_name_plural = _("invoice requests")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.bill} · {self.get_invoice_type_display()} · {self.get_status_display()}"


class InvoiceEvent(models.Model):
    """The audit trail of an invoice. Written only by ``invoices.events.invoice_event``."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        SUBMITTED = "submitted", _("submitted to the platform")
        PLATFORM_UNAVAILABLE = "platform_unavailable", _("platform unavailable")
        PLATFORM_RESULT_REJECTED = "platform_result_rejected", _("platform result rejected")
        ISSUED = "issued", _("issued")
        FAILED = "failed", _("failed")
        EMAILED = "emailed", _("e-mailed")
        PARTIALLY_REVERSED = "partially_reversed", _("partially reversed")
        REVERSED = "reversed", _("reversed")

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("event"), max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("invoice event")
        verbose_name_plural = _("invoice events")
        ordering = ["invoice", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.invoice} {self.kind}"
