"""Price book, exchange rates, usage records and their daily rollups.

Usage storage (see README, "Storage and growth"):

* ``billing_usagerequest`` — one narrow row per ``request_id`` ever accepted, with the
  digest of its content. Its primary key makes ``request_id`` unique system-wide and
  tells a duplicate (same digest) from a conflict (different digest).
* ``billing_usagerecord`` — the records themselves, natively partitioned by month of
  ``occurred_at`` (in BILLING_TIME_ZONE) through migrations; no foreign keys (ingestion
  resolves every id), one partial index for unpriced records.
* ``billing_usagerollup`` — customer × project × api key × model × price version ×
  business day × bill period sums, maintained in the ingesting transaction. Everything
  that reads usage reads this table.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from customers.models import ApiKey, Customer, Project

PRICE_DIGITS = {"max_digits": 18, "decimal_places": 8}
COST_DIGITS = {"max_digits": 38, "decimal_places": 16}


class Currency(models.TextChoices):
    USD = "USD", "USD"
    CNY = "CNY", "CNY"


class PriceVersion(models.Model):
    """List price of one (provider, model) from ``effective_from`` on, per million tokens."""

    class Source(models.TextChoices):
        IMPORT = "genai-prices", _("Imported from genai-prices")
        ADMIN = "admin", _("Entered in the admin")
        API = "api", _("Posted to the API")

    provider = models.CharField(_("provider"), max_length=40)
    model = models.CharField(_("model"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.USD)
    input_per_mtok = models.DecimalField(_("input per 1M tokens"), validators=[MinValueValidator(0)], **PRICE_DIGITS)
    cached_input_per_mtok = models.DecimalField(
        _("cached input per 1M tokens"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Empty: cached input is charged at the input price."),
        **PRICE_DIGITS,
    )
    output_per_mtok = models.DecimalField(_("output per 1M tokens"), validators=[MinValueValidator(0)], **PRICE_DIGITS)
    effective_from = models.DateTimeField(_("effective from"))
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.ADMIN)
    note = models.CharField(_("note"), max_length=300, blank=True)
    locked_at = models.DateTimeField(
        _("locked at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Set when an issued bill used this version; it can no longer change."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("price version")
        verbose_name_plural = _("price book")
        ordering = ["provider", "model", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "model", "effective_from"], name="price_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model} @ {self.effective_from:%Y-%m-%d}"

    @property
    def is_editable(self) -> bool:
        return self.locked_at is None

    @property
    def effective_cached_input_per_mtok(self):
        return self.input_per_mtok if self.cached_input_per_mtok is None else self.cached_input_per_mtok


class ModelAlias(models.Model):
    """Another name the gateway may report for a priced model (``gpt-4o-2024-08-06`` → ``gpt-4o``)."""

    provider = models.CharField(_("provider"), max_length=40)
    alias = models.CharField(_("alias"), max_length=100)
    model = models.CharField(_("model"), max_length=100)

    class Meta:
        verbose_name = _("model alias")
        verbose_name_plural = _("model aliases")
        constraints = [models.UniqueConstraint(fields=["provider", "alias"], name="model_alias_unique")]

    def __str__(self) -> str:
        return f"{self.provider}/{self.alias} → {self.model}"


class ExchangeRate(models.Model):
    """CNY per one unit of ``currency`` for a billing period, entered by finance."""

    currency = models.CharField(_("currency"), max_length=3, choices=[("USD", "USD")], default="USD")
    period = models.DateField(_("period"), help_text=_("First day of the month."))
    rate = models.DecimalField(
        _("rate (CNY per unit)"), max_digits=14, decimal_places=6, validators=[MinValueValidator(0)]
    )
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["-period", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "period"], name="exchange_rate_unique"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.period:%Y-%m} = {self.rate} CNY"


class UsageRequest(models.Model):
    """The idempotency ledger: every ``request_id`` ever accepted, with its content digest.

    Keyed by ``md5(request_id)::uuid`` (billing.ingest.REQUEST_KEY_SQL), computed by the
    statements that write it: a 16-byte fixed-width key makes an index half the size of one on
    the id itself and cheaper to insert into at random (measured: 200,000 inserts into 1 M rows 0.9 → 0.6 s),
    and this index is the one every ingested record touches. Two distinct request ids with
    the same MD5 would count as one (the second reported as a conflict and quarantined, never
    silently dropped); request ids come from our own authenticated gateway.
    """

    key = models.UUIDField(primary_key=True, editable=False)
    request_id = models.CharField(max_length=128, db_collation="C")
    content_hash = models.BinaryField(max_length=16)
    received_at = models.DateTimeField()

    class Meta:
        verbose_name = _("usage request id")

    def __str__(self) -> str:
        return self.request_id


class UsageRecord(models.Model):
    """One LLM call. The table is partitioned by month (see the migration); never updated
    except by repricing, never deleted."""

    id = models.BigAutoField(primary_key=True)
    request_id = models.CharField(max_length=128)
    customer = models.ForeignKey(Customer, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    api_key = models.ForeignKey(ApiKey, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    provider = models.CharField(max_length=40)
    model = models.CharField(max_length=100)
    input_tokens = models.BigIntegerField()
    cached_input_tokens = models.BigIntegerField()
    output_tokens = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    day = models.DateField()
    period = models.DateField()
    bill_period = models.DateField()
    price_version = models.ForeignKey(
        PriceVersion, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    currency = models.CharField(max_length=3, null=True)
    cost = models.DecimalField(null=True, **COST_DIGITS)
    received_at = models.DateTimeField()

    class Meta:
        managed = False  # created (partitioned) by migration 0002; see billing.partitions
        db_table = "billing_usagerecord"
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")

    def __str__(self) -> str:
        return self.request_id


class UsageRollup(models.Model):
    """Daily sums of usage. ``price_version`` NULL means unpriced (cost 0 until repriced).

    ``bill_period`` is the period whose bill carries the usage: its own period, or, for
    usage that arrived after its period was closed, the next open one (an adjustment).
    """

    # Written only by ingestion, which resolves every id; the database constraints and the
    # single-column indexes cost a third of the upsert's time per record and serve no read
    # (the composite indexes below lead with customer and api key). Deleting a customer,
    # project or key is still refused by Django (PROTECT is enforced by the ORM).
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False)
    provider = models.CharField(max_length=40, db_collation="C")
    model = models.CharField(max_length=100, db_collation="C")
    price_version = models.ForeignKey(PriceVersion, null=True, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3, blank=True, default="")
    day = models.DateField()
    period = models.DateField()
    bill_period = models.DateField()
    requests = models.BigIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    cached_input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cost = models.DecimalField(default=0, **COST_DIGITS)

    class Meta:
        verbose_name = _("daily usage")
        verbose_name_plural = _("daily usage")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "project", "api_key", "provider", "model", "price_version", "day", "bill_period"],
                name="usage_rollup_key",
                nulls_distinct=False,
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "period"], name="rollup_customer_period"),
            models.Index(fields=["customer", "bill_period"], name="rollup_customer_bill_period"),
            models.Index(fields=["api_key", "period"], name="rollup_key_period"),
            models.Index(fields=["period"], condition=Q(price_version__isnull=True), name="rollup_unpriced"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}/{self.model} {self.day}"


class ClosedPeriod(models.Model):
    """A (customer, period) whose bill has been issued: later usage becomes an adjustment."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    period = models.DateField()
    closed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("closed period")
        verbose_name_plural = _("closed periods")
        constraints = [models.UniqueConstraint(fields=["customer", "period"], name="closed_period_unique")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.period:%Y-%m}"


class QuarantinedRecord(models.Model):
    """A usage record the gateway sent that was rejected, kept with its errors for finance."""

    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    source = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("sent by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    batch_index = models.PositiveIntegerField(_("index in batch"))
    request_id = models.CharField(_("request id"), max_length=200, blank=True)
    payload = models.JSONField(_("record as sent"))
    errors = models.JSONField(_("errors"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolution_note = models.CharField(_("resolution note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("quarantined usage record")
        verbose_name_plural = _("quarantined usage records")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.request_id or '—'} ({self.received_at:%Y-%m-%d %H:%M})"


# --- Bills, payments and credit --------------------------------------------------------


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
        return self.number or f"draft #{self.pk} ({self.customer.code} {self.period:%Y-%m})"

    @property
    def is_issued(self) -> bool:
        return self.status not in (self.Status.DRAFT,)

    @property
    def balance(self):
        return self.total - self.amount_paid


class BillLine(models.Model):
    class Kind(models.TextChoices):
        USAGE = "usage", _("Usage")
        ADJUSTMENT = "adjustment", _("Prior-period adjustment")
        MINIMUM_COMMITMENT = "minimum_commitment", _("Minimum commitment top-up")

    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    period = models.DateField(_("usage period"))
    project = models.ForeignKey(
        Project, verbose_name=_("project"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    provider = models.CharField(_("provider"), max_length=40, blank=True)
    model = models.CharField(_("model"), max_length=100, blank=True)
    requests = models.BigIntegerField(_("requests"), default=0)
    input_tokens = models.BigIntegerField(_("input tokens"), default=0)
    cached_input_tokens = models.BigIntegerField(_("cached input tokens"), default=0)
    output_tokens = models.BigIntegerField(_("output tokens"), default=0)
    costs = models.JSONField(_("cost by price currency (unrounded)"), default=dict, blank=True)
    exchange_rates = models.JSONField(_("rates used"), default=dict, blank=True)
    discount_percent = models.DecimalField(_("discount %"), max_digits=5, decimal_places=2, default=0)
    price_versions = ArrayField(models.BigIntegerField(), verbose_name=_("price versions"), default=list, blank=True)
    amount = MoneyField(_("amount"), max_digits=14, decimal_places=2, default=0, default_currency="CNY")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("bill line")
        verbose_name_plural = _("bill lines")
        ordering = ["bill", "position"]

    def __str__(self) -> str:
        return f"{self.bill} · {self.kind} · {self.model or '—'}"


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
        return f"{self.bill} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class Payment(models.Model):
    """Money received by bank transfer (对公转账), or customer credit applied to a bill."""

    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CREDIT = "credit", _("Customer credit")

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
            # A bank reference is recorded once per customer: re-posting the same transfer is a no-op.
            models.UniqueConstraint(
                fields=["customer", "reference_key"], condition=~Q(reference_key=""), name="payment_reference_unique"
            ),
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="payment_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.reference or self.method} ({self.customer.code})"

    def save(self, *args, **kwargs):
        self.reference_key = self.key_of(self.reference)
        super().save(*args, **kwargs)

    @staticmethod
    def key_of(reference: str) -> str:
        """A bank reference as compared: NFKC (full-width ＵＳＤ-1 is USD-1), case-folded, trimmed."""
        return unicodedata.normalize("NFKC", reference).casefold().strip()


class CreditEntry(models.Model):
    """Customer credit ledger: + overpayments, − credit applied to bills. Balance = sum."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="credit_entries"
    )
    amount = MoneyField(_("amount"), max_digits=14, decimal_places=2, default_currency="CNY")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_entries")
    bill = models.ForeignKey(Bill, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_entries")
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("credit entry")
        verbose_name_plural = _("customer credit")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.customer.code} {self.amount}"


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
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=4, default=Decimal("0.06"))
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


# --- Budgets and alerts -------------------------------------------------------------------


class Budget(models.Model):
    """A monthly spending budget for a customer, one of its projects or one API key."""

    class Scope(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        PROJECT = "project", _("Project")
        API_KEY = "api_key", _("API key")

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="budgets")
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.CUSTOMER)
    project = models.ForeignKey(
        Project, verbose_name=_("project"), null=True, blank=True, on_delete=models.CASCADE, related_name="budgets"
    )
    api_key = models.ForeignKey(
        ApiKey, verbose_name=_("API key"), null=True, blank=True, on_delete=models.CASCADE, related_name="budgets"
    )
    monthly_amount = models.DecimalField(
        _("monthly amount"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY)
    thresholds = ArrayField(models.PositiveSmallIntegerField(), verbose_name=_("thresholds (%)"), default=list)
    hard_limit = models.BooleanField(
        _("hard limit"),
        default=False,
        # xgettext:no-python-format
        help_text=_("Block the key(s) once 100 % is reached."),
    )
    channels = ArrayField(
        models.CharField(max_length=500),
        verbose_name=_("channels"),
        default=list,
        blank=True,
        help_text=_("E-mail addresses or apprise URLs (WeCom, DingTalk, Feishu, Slack, …)."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        ordering = ["customer__code", "scope"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope="customer", project__isnull=True, api_key__isnull=True)
                    | Q(scope="project", project__isnull=False, api_key__isnull=True)
                    | Q(scope="api_key", api_key__isnull=False)
                ),
                name="budget_scope_target",
            ),
        ]

    def __str__(self) -> str:
        target = {
            "customer": "",
            "project": f" {self.project.code if self.project_id else ''}",
            "api_key": f" {self.api_key.key_id if self.api_key_id else ''}",
        }[self.scope]
        return f"{self.customer.code} {self.get_scope_display()}{target}: {self.monthly_amount} {self.currency}"


class Alert(models.Model):
    """A fired alert. ``dedupe_key`` makes each (budget, period, threshold) fire exactly once."""

    class Kind(models.TextChoices):
        THRESHOLD = "threshold", _("Threshold")
        FORECAST = "forecast", _("Forecast")
        ANOMALY = "anomaly", _("Anomaly")

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="alerts")
    budget = models.ForeignKey(
        Budget, verbose_name=_("budget"), null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    threshold = models.PositiveSmallIntegerField(_("threshold (%)"), null=True, blank=True)
    period = models.DateField(_("period"))
    amount = models.DecimalField(_("spend when fired"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    message = models.TextField(_("message"))
    data = models.JSONField(_("details"), default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(_("fired at"), auto_now_add=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.customer.code} {self.kind} {self.threshold or ''} {self.period:%Y-%m}"


class AlertDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=500)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert delivery")
        verbose_name_plural = _("alert deliveries")
        constraints = [models.UniqueConstraint(fields=["alert", "channel"], name="alert_delivery_unique")]

    def __str__(self) -> str:
        return f"{self.alert} → {self.channel}: {self.status}"


class KeyAllowance(models.Model):
    """What the gateway reads before each call: kept current by budget evaluation so the
    allowance endpoint is one indexed lookup."""

    api_key = models.OneToOneField(ApiKey, primary_key=True, on_delete=models.CASCADE, related_name="allowance")
    blocked = models.BooleanField(default=False)
    period = models.DateField(null=True)
    month_to_date = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    budget = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("key allowance")
        verbose_name_plural = _("key allowances")

    def __str__(self) -> str:
        return f"{self.api_key_id} {'blocked' if self.blocked else 'allowed'}"


class BudgetEvaluationRequest(models.Model):
    """Coalesces evaluations: a burst of batches for a customer leaves one row and one task."""

    customer = models.OneToOneField(Customer, primary_key=True, on_delete=models.CASCADE, related_name="+")
    requested_at = models.DateTimeField()

    class Meta:
        verbose_name = _("pending budget evaluation")

    def __str__(self) -> str:
        return f"{self.customer_id} @ {self.requested_at}"
