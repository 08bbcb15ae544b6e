"""Presales: a prospect's requirement and its estimate, and the proposals made from it.

An ``Estimate`` keeps the request as given (prospect, terms, ``as_of``) with its
``Workload`` rows (the requirement), and one ``EstimateOption`` per workload × candidate
model, priced once when the estimate is made and never recomputed: each option points at
the price version it used and keeps the rate, so a proposal sent months later still shows
the figures the prospect saw, and where they came from.

A ``Proposal`` has a number (``PROP-YYYY-NNNN``, gapless per year from a locked counter) and
``ProposalVersion`` rows: every version is frozen when it is made (terms, chosen options and
the SLA/support/terms text copied from the ``ProposalTemplate`` in force); a change is a new
version. Accepting a proposal links it to the customer and contract made from it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from billing.models import PriceVersion
from common.vat import DEFAULT_VAT_RATE
from customers.fields import PrintedCharField
from customers.models import Contract, Customer, InvoiceType

COUNT_DIGITS = {"max_digits": 40, "decimal_places": 12}  # monthly requests/tokens, unrounded
COST_DIGITS = {"max_digits": 60, "decimal_places": 34}
MONEY_DIGITS = {"max_digits": 16, "decimal_places": 2}
# Free text printed on the proposal PDF: bounded, so one proposal cannot make a render take minutes.
SCENARIO_MAX = 2_000
NOTES_MAX = 2_000
TEMPLATE_TEXT_MAX = 10_000


def bounded_text(label, limit: int, **kwargs) -> models.TextField:
    return models.TextField(label, max_length=limit, validators=[MaxLengthValidator(limit)], **kwargs)


class Estimate(models.Model):
    """A requirement priced at ``as_of``: the request as entered and its computed options."""

    prospect = PrintedCharField(_("prospect"), max_length=200)
    scenario = bounded_text(_("scenario"), SCENARIO_MAX, blank=True)
    days_per_month = models.PositiveSmallIntegerField(
        _("days per month"), default=30, validators=[MinValueValidator(28), MaxValueValidator(31)]
    )
    monthly_growth_percent = models.DecimalField(_("monthly growth %"), max_digits=6, decimal_places=3, default=0)
    discount_percent = models.DecimalField(_("offered discount %"), max_digits=5, decimal_places=2, default=0)
    fixed_exchange_rate = models.DecimalField(
        _("fixed exchange rate"), max_digits=12, decimal_places=6, null=True, blank=True
    )
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=4, default=DEFAULT_VAT_RATE)
    as_of = models.DateTimeField(_("prices as of"))
    exchange_rates = models.JSONField(_("exchange rates used"), default=dict, blank=True)
    levers = models.JSONField(_("savings levers"), default=dict, blank=True)
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
        verbose_name = _("estimate")
        verbose_name_plural = _("estimates")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.prospect}"


class Workload(models.Model):
    """One workload of the requirement: volume, tokens per request, cache share, candidates."""

    estimate = models.ForeignKey(
        Estimate, verbose_name=_("estimate"), on_delete=models.CASCADE, related_name="workloads"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    name = PrintedCharField(_("name"), max_length=200)
    daily_requests = models.BigIntegerField(_("daily requests"), null=True, blank=True)
    average_qps = models.DecimalField(_("average QPS"), max_digits=14, decimal_places=4, null=True, blank=True)
    input_tokens = models.BigIntegerField(_("input tokens per request"))
    output_tokens = models.BigIntegerField(_("output tokens per request"))
    cached_share = models.DecimalField(_("cached share of input"), max_digits=7, decimal_places=6, default=0)
    cache_write_share = models.DecimalField(_("cache-write share of input"), max_digits=7, decimal_places=6, default=0)
    batch_share = models.DecimalField(_("Batch share of requests"), max_digits=7, decimal_places=6, default=0)
    candidate_models = models.JSONField(_("candidate models"), default=list)

    class Meta:
        verbose_name = _("workload")
        verbose_name_plural = _("workloads")
        ordering = ["estimate", "position"]
        constraints = [
            models.UniqueConstraint(fields=["estimate", "name"], name="presales_workload_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class EstimateOption(models.Model):
    """One workload × candidate model, priced by the estimate rules (CONTRACT.md "Presales")."""

    estimate = models.ForeignKey(Estimate, verbose_name=_("estimate"), on_delete=models.CASCADE, related_name="options")
    workload = models.ForeignKey(Workload, verbose_name=_("workload"), on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    provider = models.CharField(_("provider"), max_length=40)
    model = models.CharField(_("model"), max_length=100)
    price_version = models.ForeignKey(
        PriceVersion, verbose_name=_("price version"), on_delete=models.PROTECT, related_name="+"
    )
    currency = models.CharField(_("price currency"), max_length=3)
    exchange_rate = models.DecimalField(_("exchange rate"), max_digits=14, decimal_places=6)
    monthly_requests = models.DecimalField(_("monthly requests"), **COUNT_DIGITS)
    input_tokens = models.DecimalField(_("input tokens per month"), **COUNT_DIGITS)
    cached_input_tokens = models.DecimalField(_("cached input tokens per month"), **COUNT_DIGITS)
    output_tokens = models.DecimalField(_("output tokens per month"), **COUNT_DIGITS)
    cost = models.DecimalField(_("cost in the price currency"), **COST_DIGITS)
    monthly_amount = models.DecimalField(_("monthly amount"), **MONEY_DIGITS)
    monthly_vat = models.DecimalField(_("monthly VAT"), **MONEY_DIGITS)
    monthly_total = models.DecimalField(_("monthly total"), **MONEY_DIGITS)
    months = models.JSONField(_("twelve months"), default=list)
    first_year_amount = models.DecimalField(_("first-year amount"), **MONEY_DIGITS)

    class Meta:
        verbose_name = _("estimate option")
        verbose_name_plural = _("estimate options")
        ordering = ["estimate", "position"]

    def __str__(self) -> str:
        return f"{self.workload.name}: {self.provider}/{self.model}"


class ProposalTemplate(models.Model):
    """The SLA, support and terms text finance maintains; a new proposal version copies the
    active one, so editing it never changes a version already made."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(
        _("used for new proposals"),
        default=True,
        help_text=_("Only one template is used; saving this one as used sets the others aside."),
    )
    sla_text = bounded_text(_("SLA"), TEMPLATE_TEXT_MAX)
    support_text = bounded_text(_("support"), TEMPLATE_TEXT_MAX)
    terms_text = bounded_text(_("terms"), TEMPLATE_TEXT_MAX)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("proposal template")
        verbose_name_plural = _("proposal templates")
        ordering = ["-is_active", "name"]

    def __str__(self) -> str:
        return self.name


class ProposalCounter(models.Model):
    """The last proposal sequence of a year; locked while numbering so numbers have no gaps."""

    year = models.PositiveSmallIntegerField(unique=True)
    last_sequence = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("proposal number counter")
        verbose_name_plural = _("proposal number counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_sequence}"


class Proposal(models.Model):
    """A numbered proposal for one estimate; its content lives in its versions."""

    number = models.CharField(_("number"), max_length=20, unique=True)
    estimate = models.OneToOneField(
        Estimate, verbose_name=_("estimate"), on_delete=models.PROTECT, related_name="proposal"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_version = models.PositiveSmallIntegerField(_("accepted version"), null=True, blank=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contract = models.OneToOneField(
        Contract, verbose_name=_("contract"), null=True, blank=True, on_delete=models.PROTECT, related_name="proposal"
    )

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.number

    @property
    def latest(self) -> ProposalVersion | None:
        return self.versions.order_by("-version").first()


class ProposalVersion(models.Model):
    """One version of a proposal, frozen when made."""

    proposal = models.ForeignKey(
        Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="versions"
    )
    version = models.PositiveSmallIntegerField(_("version"))
    valid_until = models.DateField(_("valid until"))
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), default=30, validators=[MaxValueValidator(365)]
    )
    invoice_type = models.CharField(
        _("invoice type"), max_length=10, choices=InvoiceType.choices, default=InvoiceType.SPECIAL
    )
    options = models.ManyToManyField(EstimateOption, verbose_name=_("chosen options"), related_name="+")
    notes = bounded_text(_("notes"), NOTES_MAX, blank=True)
    sla_text = models.TextField(_("SLA"), blank=True)
    support_text = models.TextField(_("support"), blank=True)
    terms_text = models.TextField(_("terms"), blank=True)
    # Rendered once, on first request (a version never changes), then served from storage.
    pdf = models.FileField(_("PDF"), upload_to="proposals/%Y/", blank=True)
    monthly_amount = models.DecimalField(_("monthly amount"), **MONEY_DIGITS)
    monthly_vat = models.DecimalField(_("monthly VAT"), **MONEY_DIGITS)
    monthly_total = models.DecimalField(_("monthly total"), **MONEY_DIGITS)
    first_year_amount = models.DecimalField(_("first-year amount"), **MONEY_DIGITS)
    first_year_vat = models.DecimalField(_("first-year VAT"), **MONEY_DIGITS)
    first_year_total = models.DecimalField(_("first-year total"), **MONEY_DIGITS)
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
        verbose_name = _("proposal version")
        verbose_name_plural = _("proposal versions")
        ordering = ["proposal", "version"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "version"], name="presales_proposal_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.proposal.number} v{self.version}"
