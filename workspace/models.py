"""What the providers charge us, imported from their exports, per day × model.

One :class:`ProviderCost` row per (provider, day, model). A costs file (OpenAI Costs API,
Anthropic cost report) writes the cost; a usage file (OpenAI completions usage) writes the
tokens; importing either again replaces what it wrote for the days and models it covers.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from billing.models import COST_DIGITS


class Provider(models.TextChoices):
    OPENAI = "openai", "OpenAI"
    ANTHROPIC = "anthropic", "Anthropic"


class ProviderCostImport(models.Model):
    """One uploaded export file, kept with the rows it could not read."""

    class Kind(models.TextChoices):
        OPENAI_COSTS = "openai_costs", _("OpenAI costs")
        OPENAI_USAGE = "openai_usage", _("OpenAI completions usage")
        ANTHROPIC_COSTS = "anthropic_costs", _("Anthropic cost report")

    provider = models.CharField(_("provider"), max_length=40, choices=Provider.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    row_count = models.PositiveIntegerField(_("rows imported"), default=0)
    errors = models.JSONField(_("rows not imported"), default=list, blank=True)  # the first 100
    more_errors = models.PositiveIntegerField(_("more rows not imported"), default=0)

    class Meta:
        verbose_name = _("provider cost import")
        verbose_name_plural = _("provider cost imports")
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.file_name} ({self.uploaded_at:%Y-%m-%d %H:%M})"


class ProviderCost(models.Model):
    """The provider's figures for one model on one day (the provider's day, in UTC).

    Token columns are null until a usage export for that day has been imported; the cost is
    null until a costs export has. ``cost`` is unrounded, in ``currency``."""

    provider = models.CharField(_("provider"), max_length=40, choices=Provider.choices)
    day = models.DateField(_("day"))
    model = models.CharField(_("model"), max_length=100)
    requests = models.BigIntegerField(_("requests"), null=True, blank=True)
    input_tokens = models.BigIntegerField(_("input tokens"), null=True, blank=True)
    cached_input_tokens = models.BigIntegerField(_("cached input tokens"), null=True, blank=True)
    output_tokens = models.BigIntegerField(_("output tokens"), null=True, blank=True)
    cost = models.DecimalField(_("cost"), null=True, blank=True, **COST_DIGITS)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    cost_import = models.ForeignKey(
        ProviderCostImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    usage_import = models.ForeignKey(
        ProviderCostImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("provider cost")
        verbose_name_plural = _("provider costs")
        ordering = ["-day", "provider", "model"]
        constraints = [models.UniqueConstraint(fields=["provider", "day", "model"], name="provider_cost_day_model")]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model} {self.day}"
