"""Usage storage (see README, "Storage and growth").

* ``billing_usagerequest`` — one narrow row per ``request_id`` ever accepted, with the
  digest of its content. Its primary key makes ``request_id`` unique system-wide and
  tells a duplicate (same digest) from a conflict (different digest).
* ``billing_usagerecord`` — the records themselves, natively partitioned by month of
  ``occurred_at`` (in BILLING_TIME_ZONE) through migrations; no foreign keys (ingestion
  resolves every id), one partial index for unpriced records.
* ``billing_usagerollup`` — customer × project × api key × model × price version × variant ×
  business day × bill period sums, maintained in the ingesting transaction. Everything
  that reads usage reads this table.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models.pricing import COST_DIGITS, PriceVersion
from customers.models import ApiKey, Customer, Project


class UsageRequest(models.Model):
    """The idempotency ledger: every ``request_id`` ever accepted, with its content digest.

    Keyed by ``md5(request_id)::uuid`` (billing.metering.ingest.REQUEST_KEY_SQL), computed by the
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
    # The added counts of CONTRACT.md "Price dimensions" (billing.metering.rollups.UNIT_FIELDS);
    # NULL means 0, so that a record without them stores a bit each, not eight bytes.
    cache_write_tokens = models.BigIntegerField(null=True)
    cache_write_5m_tokens = models.BigIntegerField(null=True)
    cache_write_1h_tokens = models.BigIntegerField(null=True)
    input_audio_tokens = models.BigIntegerField(null=True)
    cache_audio_read_tokens = models.BigIntegerField(null=True)
    output_audio_tokens = models.BigIntegerField(null=True)
    input_image_tokens = models.BigIntegerField(null=True)
    output_image_tokens = models.BigIntegerField(null=True)
    output_reasoning_tokens = models.BigIntegerField(null=True)
    web_searches = models.BigIntegerField(null=True)
    # The price context; NULL means the default (``standard``, ``default``).
    processing = models.CharField(max_length=10, null=True)
    service_tier = models.CharField(max_length=20, null=True)
    variant = models.CharField(max_length=50, null=True)  # billing.pricing.cost.variant_name; NULL: standard
    price_version = models.ForeignKey(
        PriceVersion, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    currency = models.CharField(max_length=3, null=True)
    cost = models.DecimalField(null=True, **COST_DIGITS)
    received_at = models.DateTimeField()

    class Meta:
        managed = False  # created (partitioned) by migration 0002; see billing.metering.partitions
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
    # ``standard``, or the record's non-default context joined by "+" (billing.pricing.cost.variant_name).
    variant = models.CharField(max_length=50, default="standard", db_collation="C")
    currency = models.CharField(max_length=3, blank=True, default="")
    day = models.DateField()
    period = models.DateField()
    bill_period = models.DateField()
    requests = models.BigIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    cached_input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cache_write_tokens = models.BigIntegerField(default=0)
    cache_write_5m_tokens = models.BigIntegerField(default=0)
    cache_write_1h_tokens = models.BigIntegerField(default=0)
    input_audio_tokens = models.BigIntegerField(default=0)
    cache_audio_read_tokens = models.BigIntegerField(default=0)
    output_audio_tokens = models.BigIntegerField(default=0)
    input_image_tokens = models.BigIntegerField(default=0)
    output_image_tokens = models.BigIntegerField(default=0)
    output_reasoning_tokens = models.BigIntegerField(default=0)
    web_searches = models.BigIntegerField(default=0)
    cost = models.DecimalField(default=0, **COST_DIGITS)

    class Meta:
        verbose_name = _("daily usage")
        verbose_name_plural = _("daily usage")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "customer",
                    "project",
                    "api_key",
                    "provider",
                    "model",
                    "price_version",
                    "variant",
                    "day",
                    "bill_period",
                ],
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
