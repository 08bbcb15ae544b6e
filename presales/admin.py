"""Admin of presales: estimates (with their requirement) and proposals are read-only records
of what was priced and offered; proposal templates (SLA, support, terms) are finance's to
edit. Work happens on the staff pages (/staff/presales/), linked from here."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from common.admin_forms import ServiceModelForm
from presales import proposals
from presales.models import Estimate, EstimateOption, Proposal, ProposalTemplate, ProposalVersion, Workload


class ReadOnlyMixin:
    """What was priced or offered is kept as it was: view only."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class WorkloadInline(ReadOnlyMixin, admin.TabularInline):
    model = Workload
    verbose_name_plural = _("Requirement: workloads")
    fields = [
        "name",
        "daily_requests",
        "average_qps",
        "input_tokens",
        "output_tokens",
        "cached_share",
        "candidate_models",
    ]
    readonly_fields = fields
    extra = 0


class EstimateOptionInline(ReadOnlyMixin, admin.TabularInline):
    model = EstimateOption
    fields = [
        "workload",
        "provider",
        "model",
        "price_version",
        "exchange_rate",
        "monthly_amount",
        "monthly_vat",
        "first_year_amount",
    ]
    readonly_fields = fields
    extra = 0


@admin.register(Estimate)
class EstimateAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "prospect", "scenario", "as_of", "discount_percent", "created_by", "created_at", "page"]
    search_fields = ["prospect", "scenario", "workloads__name"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "prospect",
        "scenario",
        "days_per_month",
        "monthly_growth_percent",
        "discount_percent",
        "fixed_exchange_rate",
        "vat_rate",
        "as_of",
        "exchange_rates",
        "created_by",
        "created_at",
        "page",
    ]
    fields = readonly_fields
    inlines = [WorkloadInline, EstimateOptionInline]

    @admin.display(description=_("staff page"))
    def page(self, obj: Estimate) -> str:
        return format_html('<a href="{}">{}</a>', reverse("presales:estimate", args=[obj.pk]), _("open"))


@admin.register(Workload)
class WorkloadAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The requirements as entered, searchable across estimates."""

    list_display = [
        "name",
        "estimate",
        "daily_requests",
        "average_qps",
        "input_tokens",
        "output_tokens",
        "cached_share",
    ]
    search_fields = ["name", "estimate__prospect"]
    readonly_fields = ["estimate", *WorkloadInline.fields]
    fields = readonly_fields


class ProposalVersionInline(ReadOnlyMixin, admin.TabularInline):
    model = ProposalVersion
    fields = [
        "version",
        "created_at",
        "valid_until",
        "payment_terms_days",
        "invoice_type",
        "monthly_total",
        "first_year_total",
        "pdf_link",
    ]
    readonly_fields = fields
    extra = 0

    @admin.display(description="PDF")
    def pdf_link(self, obj: ProposalVersion) -> str:
        url = reverse("presales:proposal-pdf", args=[obj.proposal.number])
        return format_html('<a href="{}?version={}">{}</a>', url, obj.version, _("open"))


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["number", "prospect", "created_at", "accepted_at", "customer", "contract", "page"]
    list_filter = [("accepted_at", admin.EmptyFieldListFilter)]
    search_fields = ["number", "estimate__prospect", "customer__code", "contract__number"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "number",
        "estimate",
        "created_at",
        "accepted_at",
        "accepted_version",
        "customer",
        "contract",
        "page",
    ]
    fields = readonly_fields
    inlines = [ProposalVersionInline]

    @admin.display(description=_("prospect"), ordering="estimate__prospect")
    def prospect(self, obj: Proposal) -> str:
        return obj.estimate.prospect

    @admin.display(description=_("staff page"))
    def page(self, obj: Proposal) -> str:
        return format_html('<a href="{}">{}</a>', reverse("presales:proposal", args=[obj.number]), _("open"))


class ProposalTemplateForm(ServiceModelForm):
    class Meta:
        model = ProposalTemplate
        fields = ["name", "is_active", "sla_text", "support_text", "terms_text"]

    def perform(self, data: dict) -> ProposalTemplate:
        return proposals.proposal_template_save(template=self.instance, **data)


@admin.register(ProposalTemplate)
class ProposalTemplateAdmin(admin.ModelAdmin):
    form = ProposalTemplateForm
    list_display = ["name", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        """Nothing to do: the form's service call saved it (ProposalTemplateForm.perform)."""
