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

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

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
    """The idempotency ledger: every ``request_id`` ever accepted, with its content digest."""

    request_id = models.CharField(max_length=128, primary_key=True)
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

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(max_length=40)
    model = models.CharField(max_length=100)
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
