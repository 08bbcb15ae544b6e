"""Customers, their contracts, projects, API keys, portal users and API tokens.

Rows hold data and row-local facts only; every write goes through ``services.py``.
"""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateRangeField, RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Func, Q, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField
from djmoney.models.validators import MinMoneyValidator

from common.vat import DEFAULT_VAT_RATE
from customers.fields import PrintedCharField

code_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9_-]{0,31}$",
    _("Use 1–32 capital letters, digits, '-' or '_', starting with a letter or digit."),
)
project_code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$",
    _("Use 1–64 letters, digits, '-' or '_', starting with a letter or digit."),
)


def secret_digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret. Secrets are random 256-bit strings, so a plain
    digest is enough (no salt or slow hash needed) and lookups stay O(1)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class InvoiceType(models.TextChoices):
    SPECIAL = "special", _("Special VAT invoice (专票)")
    ORDINARY = "ordinary", _("Ordinary VAT invoice (普票)")


class Customer(models.Model):
    """A legal entity that buys traffic on monthly settlement."""

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = PrintedCharField(_("legal name"), max_length=200)
    tax_id = models.CharField(
        _("unified social credit code"),
        max_length=20,
        blank=True,
        help_text=_("统一社会信用代码 / 纳税人识别号. Required for special VAT invoices."),
    )
    tax_id_override = models.BooleanField(
        _("tax id check overridden"),
        default=False,
        help_text=_("Staff confirmed a code that fails the check digit (e.g. a genuine non-standard code)."),
    )
    tax_id_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("overridden by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    address = PrintedCharField(_("registered address"), max_length=300, blank=True)
    phone = PrintedCharField(_("phone"), max_length=40, blank=True)
    bank_name = PrintedCharField(_("bank"), max_length=200, blank=True)
    bank_account = PrintedCharField(_("bank account"), max_length=64, blank=True)
    email = models.EmailField(_("billing e-mail"), blank=True)
    billing_cc = ArrayField(
        models.EmailField(),
        verbose_name=_("more billing e-mails"),
        blank=True,
        default=list,
        help_text=_("Further addresses that receive bills and reminders."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    @property
    def billing_emails(self) -> list[str]:
        return [e for e in [self.email, *self.billing_cc] if e]


class InvoiceTitle(models.Model):
    """发票抬头: what the customer wants printed on its VAT invoices."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="invoice_titles"
    )
    name = PrintedCharField(_("buyer name"), max_length=200)
    tax_id = models.CharField(_("buyer tax id"), max_length=20, blank=True)
    tax_id_override = models.BooleanField(_("tax id check overridden"), default=False)
    address = PrintedCharField(_("address"), max_length=300, blank=True)
    phone = PrintedCharField(_("phone"), max_length=40, blank=True)
    bank_name = PrintedCharField(_("bank"), max_length=200, blank=True)
    bank_account = PrintedCharField(_("bank account"), max_length=64, blank=True)
    email = models.EmailField(_("invoice delivery e-mail"), blank=True)
    invoice_type = models.CharField(
        _("invoice type"), max_length=10, choices=InvoiceType.choices, default=InvoiceType.SPECIAL
    )
    is_default = models.BooleanField(_("default"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("invoice title")
        verbose_name_plural = _("invoice titles")
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_default=True), name="one_default_invoice_title"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.tax_id or '—'})"


class DateRange(Func):
    function = "DATERANGE"
    output_field = DateRangeField()


class Contract(models.Model):
    """The commercial terms a customer's bills are built from."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")
        TERMINATED = "terminated", _("Terminated")

    class Currency(models.TextChoices):
        USD = "USD", _("US dollar")
        CNY = "CNY", _("Renminbi")

    class InvoiceTiming(models.TextChoices):
        BEFORE_PAYMENT = "before_payment", _("Invoice before payment (先票后款)")
        AFTER_PAYMENT = "after_payment", _("Invoice after payment (先款后票)")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contracts"
    )
    number = models.CharField(_("contract number"), max_length=64, unique=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True, help_text=_("Empty: open-ended."))
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), default=30, validators=[MaxValueValidator(365)]
    )
    price_currency = models.CharField(_("price currency"), max_length=3, choices=Currency.choices, default=Currency.USD)
    discount_percent = models.DecimalField(
        _("discount %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    fixed_exchange_rate = models.DecimalField(
        _("fixed exchange rate"),
        max_digits=12,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.000001"))],
        help_text=_("CNY per unit of the price currency for every period; empty: the monthly rate finance enters."),
    )
    minimum_monthly_commitment = MoneyField(
        _("minimum monthly commitment"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        default_currency="CNY",
        currency_choices=[("CNY", "CNY")],
        validators=[MinMoneyValidator(0)],
    )
    monthly_service_fee = MoneyField(
        _("monthly service fee"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        default=None,
        default_currency="CNY",
        currency_choices=[("CNY", "CNY")],
        validators=[MinMoneyValidator(0)],
        help_text=_(
            "服务费: a fixed line on every bill of a period the contract covers; not discounted, "
            "not counted toward the minimum commitment; VAT applies."
        ),
    )
    credit_limit = MoneyField(
        _("credit limit"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        default=None,
        default_currency="CNY",
        currency_choices=[("CNY", "CNY")],
        validators=[MinMoneyValidator(0)],
        help_text=_("授信额度: the gateway refuses calls once unpaid bills plus this month's spend reach it."),
    )
    suspend_after_overdue_days = models.PositiveIntegerField(
        _("suspend after overdue days"),
        null=True,
        blank=True,
        help_text=_("The gateway refuses calls while a bill is overdue by more than this many days."),
    )
    vat_rate = models.DecimalField(
        _("VAT rate"),
        max_digits=5,
        decimal_places=4,
        default=DEFAULT_VAT_RATE,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    invoice_type = models.CharField(
        _("invoice type"), max_length=10, choices=InvoiceType.choices, default=InvoiceType.SPECIAL
    )
    invoice_timing = models.CharField(
        _("invoice timing"), max_length=16, choices=InvoiceTiming.choices, default=InvoiceTiming.BEFORE_PAYMENT
    )
    requires_confirmation = models.BooleanField(
        _("invoice only after statement confirmation"),
        default=False,
        help_text=_("The customer must confirm the monthly statement (对账确认) before invoices are issued."),
    )
    bill_per_project = models.BooleanField(_("one bill per project"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["customer__code", "-starts_on"]
        constraints = [
            # Backstop for the service check: two active contracts of one customer never overlap.
            ExclusionConstraint(
                name="contract_active_no_overlap",
                expressions=[
                    ("customer", RangeOperators.EQUAL),
                    (DateRange(F("starts_on"), F("ends_on"), Value("[]")), RangeOperators.OVERLAPS),
                ],
                condition=Q(status="active"),
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")), name="contract_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100), name="contract_discount_0_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.customer.code})"

    def covers(self, day) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class Project(models.Model):
    """A department or application of a customer; usage and keys belong to one."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="projects"
    )
    code = models.CharField(_("code"), max_length=64, validators=[project_code_validator])
    name = PrintedCharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["customer__code", "code"]
        constraints = [models.UniqueConstraint(fields=["customer", "code"], name="project_code_unique_per_customer")]

    def __str__(self) -> str:
        return f"{self.customer.code}/{self.code}"


class ApiKey(models.Model):
    """A customer's key for the LLM gateway. The secret is shown once; only its digest is kept."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="api_keys"
    )
    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="api_keys")
    name = PrintedCharField(_("name"), max_length=100)
    key_id = models.CharField(_("key id"), max_length=40, unique=True, editable=False)
    secret_digest = models.CharField(max_length=64, editable=False)
    secret_hint = models.CharField(
        _("secret hint"), max_length=12, editable=False, help_text=_("Last characters, to recognise a key.")
    )
    # The gateway's own id for this key (e.g. "newapi:42": a new-api token id under a source
    # name), so a connector reading the gateway's logs finds our key. Null when unset: unique
    # among the keys that have one.
    external_id = models.CharField(
        _("external id"),
        max_length=128,
        unique=True,
        null=True,
        blank=True,
        help_text=_("The gateway's own id for this key, e.g. newapi:42 (source name : new-api token id)."),
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
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.key_id

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def check_secret(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret_digest, secret_digest(secret))


class PortalUser(models.Model):
    """Links a login to one customer with a role in the self-service portal."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrator")
        FINANCE = "finance", _("Finance")
        DEVELOPER = "developer", _("Developer")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="portal"
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="portal_users"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.DEVELOPER)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("portal user")
        verbose_name_plural = _("portal users")
        ordering = ["customer__code", "user__username"]

    def __str__(self) -> str:
        return f"{self.user.get_username()} @ {self.customer.code} ({self.get_role_display()})"


class ApiToken(models.Model):
    """A bearer token for the HTTP API (staff, portal users, the gateway).

    The token ``pc_<token_id>_<secret>`` is shown once; ``token_id`` finds the row and the
    secret is compared with its digest in constant time.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    token_id = models.CharField(max_length=16, unique=True, editable=False)
    secret_digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"pc_{self.token_id}_… ({self.user})"

    def check_secret(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret_digest, secret_digest(secret))


class AuditEvent(models.Model):
    """Who changed money terms, and when: the price book, exchange rates and contracts.

    (Payments, voids, reissues and red-letter invoices are recorded as BillEvent and
    InvoiceEvent rows of their documents.) Written only by customers.audit.audit_record;
    read-only in the admin.
    """

    class Action(models.TextChoices):
        PRICE_VERSION_SET = "price_version_set", _("Price version set")
        EXCHANGE_RATE_SET = "exchange_rate_set", _("Exchange rate set")
        CONTRACT_CREATED = "contract_created", _("Contract created")
        CONTRACT_CHANGED = "contract_changed", _("Contract changed")
        DEPOSIT_RECORDED = "deposit_recorded", _("Deposit recorded")
        CREDIT_RECEIVED = "credit_received", _("Transfer held as credit")
        API_KEY_MAPPED = "api_key_mapped", _("API key mapped to a gateway id")

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    target = models.CharField(_("object"), max_length=200)
    facts = models.JSONField(_("what changed"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.target}"


class SendThrottle(models.Model):
    """One send of something a visitor can ask for repeatedly (a password-reset e-mail, an
    invitation), keyed by a digest of what it is counted by (an address, a customer): read by
    customers.throttle, rows older than the window deleted as it goes."""

    kind = models.CharField(max_length=40)
    key = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("send throttle entry")
        verbose_name_plural = _("send throttle entries")
        indexes = [models.Index(fields=["kind", "key", "at"], name="send_throttle_lookup")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key[:8]}… {self.at:%Y-%m-%d %H:%M}"
