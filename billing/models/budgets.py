"""Budgets, the alerts they fire and their deliveries, key allowances and evaluation requests."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models.pricing import Currency
from common.admin_display import amount_text
from customers.models import ApiKey, Customer, Project


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
    channels_by_staff = models.BooleanField(
        _("channels set by staff"),
        default=False,
        help_text=_("Set by our staff: any apprise URL is sent to. A customer's are checked before each send."),
    )
    is_active = models.BooleanField(_("active"), default=True)
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
        return f"{self.customer.code} {self.get_scope_display()}{target} ({amount_text(self.monthly_amount, self.currency)})"


class Alert(models.Model):
    """A fired alert. ``dedupe_key`` makes each (budget, period, threshold) fire exactly once."""

    class Kind(models.TextChoices):
        THRESHOLD = "threshold", _("Threshold")
        FORECAST = "forecast", _("Forecast")
        ANOMALY = "anomaly", _("Anomaly")
        CREDIT = "credit", _("Credit limit")

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
        return f"{self.customer.code} {self.get_kind_display()} {self.threshold or ''} {self.period:%Y-%m}"


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
    # A failed delivery is tried again by its customer's delivery run once this has passed
    # (backoff); null: not before the sweep asks again.
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)

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


class AlertDeliveryRequest(models.Model):
    """Coalesces a customer's delivery runs: at most one queued per customer, whatever the
    number of alerts a burst fires (budgets.alerts.alert_deliveries_request)."""

    customer = models.OneToOneField(Customer, primary_key=True, on_delete=models.CASCADE, related_name="+")
    requested_at = models.DateTimeField()

    class Meta:
        verbose_name = _("pending alert delivery run")

    def __str__(self) -> str:
        return f"{self.customer_id} @ {self.requested_at}"


class BudgetTestSend(models.Model):
    """One "send test" of a budget's channel: at most MAX_TEST_SENDS_PER_HOUR an hour per budget."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("budget test send")

    def __str__(self) -> str:
        return f"{self.budget_id} @ {self.sent_at}"


class BudgetEvaluationRequest(models.Model):
    """Coalesces evaluations: a burst of batches for a customer leaves one row and one task."""

    customer = models.OneToOneField(Customer, primary_key=True, on_delete=models.CASCADE, related_name="+")
    requested_at = models.DateTimeField()

    class Meta:
        verbose_name = _("pending budget evaluation")

    def __str__(self) -> str:
        return f"{self.customer_id} @ {self.requested_at}"


class CustomerStanding(models.Model):
    """A customer's credit standing (授信) as the gateway's allowance reads it: refreshed by
    every budget evaluation (after ingestion, the sweep), payment and overdue run, so the
    allowance stays one indexed query."""

    customer = models.OneToOneField(
        Customer, verbose_name=_("customer"), primary_key=True, on_delete=models.CASCADE, related_name="standing"
    )
    period = models.DateField(_("period"))
    unpaid = models.DecimalField(_("unpaid bills"), max_digits=14, decimal_places=2, default=0)
    month_to_date = models.DecimalField(_("spend this month"), max_digits=14, decimal_places=2, default=0)
    credit_limit = models.DecimalField(_("credit limit"), max_digits=14, decimal_places=2, null=True, blank=True)
    credit_blocked = models.BooleanField(_("credit limit reached"), default=False)
    overdue_blocked = models.BooleanField(_("suspended for an overdue bill"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("credit standing")
        verbose_name_plural = _("credit standings")

    def __str__(self) -> str:
        return f"{self.customer_id} {self.period:%Y-%m}"
