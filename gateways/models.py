"""A gateway whose logs we read: its watermark and last run, the log rows we hold back
(quarantined: unmapped token or rejected record), and the daily comparison of its token
sums with ours."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from billing.models import QuarantinedRecord


class GatewaySource(models.Model):
    """One gateway database, by the name its request ids and key external ids carry
    (``{name}:{logs.id}``, ``{name}:{token_id}``). Its URL is not stored: it comes from the
    command line or ``GATEWAY_LOG_SOURCES`` (it holds a password)."""

    class Kind(models.TextChoices):
        NEWAPI = "newapi", _("new-api / one-api")

    name = models.SlugField(_("name"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.NEWAPI)
    watermark = models.BigIntegerField(
        _("watermark"), null=True, blank=True, help_text=_("The newest created_at read (Unix seconds).")
    )
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_run_ok = models.BooleanField(_("last run succeeded"), null=True, blank=True)
    last_run_counts = models.JSONField(_("last run counts"), default=dict, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("gateway source")
        verbose_name_plural = _("gateway sources")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class HeldLog(models.Model):
    """A gateway log row that became no usage record: quarantined once (a re-read inside the
    overlap does not quarantine it again); an unmapped one is ingested on a later read once
    its token is mapped."""

    class Reason(models.TextChoices):
        UNMAPPED = "unmapped", _("No API key has this gateway token")
        REJECTED = "rejected", _("Rejected by ingestion")

    source = models.ForeignKey(GatewaySource, on_delete=models.CASCADE, related_name="held")
    log_id = models.BigIntegerField(_("log id"))
    log_created_at = models.BigIntegerField(_("log created_at"))
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    # No database constraint: the quarantine belongs to billing, which may empty it (the
    # benchmarks truncate it) without knowing of this app.
    quarantined = models.ForeignKey(
        QuarantinedRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    created_at = models.DateTimeField(_("held at"), auto_now_add=True)

    class Meta:
        verbose_name = _("held gateway log")
        verbose_name_plural = _("held gateway logs")
        constraints = [models.UniqueConstraint(fields=["source", "log_id"], name="held_log_unique")]

    def __str__(self) -> str:
        return f"{self.source}:{self.log_id} ({self.reason})"


class DayCheck(models.Model):
    """One business day of one source: the gateway's consume rows and token sums against the
    usage records we hold from it. A difference alerts finance once."""

    source = models.ForeignKey(GatewaySource, on_delete=models.CASCADE, related_name="day_checks")
    day = models.DateField(_("day"))
    gateway_requests = models.BigIntegerField(_("gateway requests"))
    gateway_input_tokens = models.BigIntegerField(_("gateway input tokens"))
    gateway_output_tokens = models.BigIntegerField(_("gateway output tokens"))
    our_requests = models.BigIntegerField(_("our requests"))
    our_input_tokens = models.BigIntegerField(_("our input tokens"))
    our_output_tokens = models.BigIntegerField(_("our output tokens"))
    held = models.BigIntegerField(_("held rows"), default=0)
    checked_at = models.DateTimeField(_("checked at"))
    alerted_at = models.DateTimeField(_("finance alerted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("gateway day check")
        verbose_name_plural = _("gateway day checks")
        ordering = ["-day", "source__name"]
        constraints = [models.UniqueConstraint(fields=["source", "day"], name="gateway_day_check_unique")]

    def __str__(self) -> str:
        return f"{self.source} {self.day}"

    @property
    def matches(self) -> bool:
        return (self.gateway_requests, self.gateway_input_tokens, self.gateway_output_tokens) == (
            self.our_requests,
            self.our_input_tokens,
            self.our_output_tokens,
        )
