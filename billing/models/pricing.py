"""The price book: list prices per model version, model aliases and monthly exchange rates."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

PRICE_DIGITS = {"max_digits": 30, "decimal_places": 20}
COST_DIGITS = {"max_digits": 38, "decimal_places": 16}


class Currency(models.TextChoices):
    USD = "USD", "USD"
    CNY = "CNY", "CNY"


class PriceVersion(models.Model):
    """List price of one (provider, model) from ``effective_from`` on.

    ``prices``, ``variants`` and ``windows`` are the price maps of CONTRACT.md "Price
    dimensions" (genai-prices' price keys; validated by ``billing.pricing.pricemaps``). The
    three ``*_per_mtok`` columns are their shorthand (``prices.input_mtok``,
    ``cache_read_mtok``, ``output_mtok``; a tiered key's base), kept in step by the services.
    """

    class Source(models.TextChoices):
        IMPORT = "genai-prices", _("Imported from genai-prices")
        ADMIN = "admin", _("Entered in the admin")
        API = "api", _("Posted to the API")
        FILE = "file", _("Imported from a price-book file")

    provider = models.CharField(_("provider"), max_length=40)
    model = models.CharField(_("model"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.USD)
    input_per_mtok = models.DecimalField(
        _("input per 1M tokens"), null=True, blank=True, validators=[MinValueValidator(0)], **PRICE_DIGITS
    )
    cached_input_per_mtok = models.DecimalField(
        _("cached input per 1M tokens"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Empty: cached input is charged at the input price."),
        **PRICE_DIGITS,
    )
    output_per_mtok = models.DecimalField(
        _("output per 1M tokens"), null=True, blank=True, validators=[MinValueValidator(0)], **PRICE_DIGITS
    )
    prices = models.JSONField(_("prices"), default=dict, blank=True)
    variants = models.JSONField(_("variants"), default=list, blank=True)
    windows = models.JSONField(_("time-of-day windows"), default=list, blank=True)
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
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
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

    def price_map(self) -> dict:
        """``prices``, or for a row written with the shorthand alone, the map it stands for."""
        if self.prices:
            return self.prices
        return shorthand_prices(self.input_per_mtok, self.cached_input_per_mtok, self.output_per_mtok)


SHORTHAND_KEYS = {
    "input_per_mtok": "input_mtok",
    "cached_input_per_mtok": "cache_read_mtok",
    "output_per_mtok": "output_mtok",
}


def shorthand_prices(input_per_mtok, cached_input_per_mtok, output_per_mtok) -> dict:
    """The ``prices`` map the three old fields mean (an absent cached price is no key: cache
    reads then fall to ``input_mtok``, as money rule 2 (docs/money-rules.md) charged them)."""
    values = {"input_mtok": input_per_mtok, "cache_read_mtok": cached_input_per_mtok, "output_mtok": output_per_mtok}
    return {key: f"{value.normalize():f}" for key, value in values.items() if value is not None}


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


class DefaultProvider(models.Model):
    """The provider a record without ``provider`` is billed under when several providers
    sell its model (``claude-sonnet-4-5`` under anthropic and google) and its customer has
    used none or several of them (billing.pricing.index.PriceIndex.resolve)."""

    model = models.CharField(_("model"), max_length=100, unique=True)
    provider = models.CharField(_("provider"), max_length=40)

    class Meta:
        verbose_name = _("default provider")
        verbose_name_plural = _("default providers")

    def __str__(self) -> str:
        return f"{self.model} → {self.provider}"

    def clean(self) -> None:
        sold = PriceVersion.objects.filter(provider=self.provider, model=self.model).exists()
        aliased = ModelAlias.objects.filter(provider=self.provider, alias=self.model).exists()
        if not (sold or aliased):
            raise ValidationError({"provider": _("The price book has no price of this model under this provider.")})


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
