"""Admin for the price book, exchange rates, daily usage and quarantined records."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from billing import services
from billing.models import (
    Alert,
    AlertDelivery,
    Bill,
    BillEvent,
    BillLine,
    Budget,
    CreditEntry,
    ExchangeRate,
    ModelAlias,
    Payment,
    PriceVersion,
    QuarantinedRecord,
    SellerProfile,
    UsageRollup,
)
from billing.periods import format_period
from common.admin_export import export_as_csv
from common.api import Conflict


class PeriodFilter(admin.SimpleListFilter):
    """Billing periods as months (YYYY-MM), newest first — not Django's day-based date filter."""

    title = _("period")
    parameter_name = "period"

    def lookups(self, request, model_admin):
        periods = model_admin.get_queryset(request).order_by("-period").values_list("period", flat=True).distinct()
        return [(p.isoformat(), format_period(p)) for p in periods[:36]]

    def queryset(self, request, queryset):
        return queryset.filter(period=self.value()) if self.value() else queryset


class LockedReadOnlyMixin:
    """Versions/rates used by an issued bill are shown read-only and cannot be deleted."""

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.locked_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.locked_at is not None:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        locked = queryset.filter(locked_at__isnull=False).count()
        if locked:
            self.message_user(
                request, _("%(n)d locked rows were kept: issued bills use them.") % {"n": locked}, messages.WARNING
            )
        super().delete_queryset(request, queryset.filter(locked_at__isnull=True))


@admin.register(PriceVersion)
class PriceVersionAdmin(LockedReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "provider",
        "model",
        "effective_from",
        "currency",
        "input_per_mtok",
        "cached_input_per_mtok",
        "output_per_mtok",
        "source",
        "locked",
    ]
    actions = [export_as_csv]
    list_filter = ["provider", "currency", "source", ("locked_at", admin.EmptyFieldListFilter)]
    search_fields = ["provider", "model", "note"]
    date_hierarchy = "effective_from"
    readonly_fields = ["source", "locked_at", "created_at", "created_by"]

    @admin.display(boolean=True, description=_("locked"))
    def locked(self, obj: PriceVersion) -> bool:
        return obj.locked_at is not None

    def save_model(self, request, obj, form, change):
        try:
            version, _created = services.price_version_set(
                provider=obj.provider,
                model=obj.model,
                effective_from=obj.effective_from,
                currency=obj.currency,
                input_per_mtok=obj.input_per_mtok,
                cached_input_per_mtok=obj.cached_input_per_mtok,
                output_per_mtok=obj.output_per_mtok,
                source=PriceVersion.Source.ADMIN,
                note=obj.note,
                by=request.user,
            )
        except (ValidationError, Conflict) as exc:
            self.message_user(request, str(getattr(exc, "detail", exc)), messages.ERROR)
            return
        obj.pk = version.pk


@admin.register(ModelAlias)
class ModelAliasAdmin(admin.ModelAdmin):
    list_display = ["provider", "alias", "model"]
    list_filter = ["provider"]
    search_fields = ["alias", "model"]


class ExchangeRateForm(forms.ModelForm):
    class Meta:
        model = ExchangeRate
        fields = ["currency", "period", "rate"]

    def clean_period(self):
        return self.cleaned_data["period"].replace(day=1)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(LockedReadOnlyMixin, admin.ModelAdmin):
    form = ExchangeRateForm
    list_display = ["currency", "period_label", "rate", "updated_at", "updated_by", "locked"]
    actions = [export_as_csv]
    list_filter = ["currency", ("locked_at", admin.EmptyFieldListFilter)]
    date_hierarchy = "period"

    @admin.display(description=_("period"), ordering="period")
    def period_label(self, obj: ExchangeRate) -> str:
        return format_period(obj.period)

    @admin.display(boolean=True, description=_("locked"))
    def locked(self, obj: ExchangeRate) -> bool:
        return obj.locked_at is not None

    def save_model(self, request, obj, form, change):
        try:
            rate, _created = services.exchange_rate_set(
                currency=obj.currency, period=obj.period, rate=obj.rate, by=request.user
            )
        except (ValidationError, Conflict) as exc:
            self.message_user(request, str(getattr(exc, "detail", exc)), messages.ERROR)
            return
        obj.pk = rate.pk


@admin.register(UsageRollup)
class UsageRollupAdmin(admin.ModelAdmin):
    """Daily usage, read-only: it is written by ingestion only."""

    list_display = [
        "day",
        "customer",
        "project",
        "api_key",
        "provider",
        "model",
        "requests",
        "input_tokens",
        "cached_input_tokens",
        "output_tokens",
        "cost",
        "currency",
        "priced",
        "bill_period",
    ]
    actions = [export_as_csv]
    list_filter = [PeriodFilter, "provider", ("price_version", admin.EmptyFieldListFilter), "customer"]
    search_fields = ["customer__code", "project__code", "api_key__key_id", "model"]
    date_hierarchy = "day"
    list_select_related = ["customer", "project", "api_key"]

    @admin.display(boolean=True, description=_("priced"))
    def priced(self, obj: UsageRollup) -> bool:
        return obj.price_version_id is not None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(QuarantinedRecord)
class QuarantinedRecordAdmin(admin.ModelAdmin):
    """Records the gateway sent that were rejected: what was sent and why."""

    list_display = ["received_at", "request_id", "error_summary", "source", "resolved_at"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), "received_at"]
    search_fields = ["request_id"]
    date_hierarchy = "received_at"
    readonly_fields = ["received_at", "source", "batch_index", "request_id", "payload", "errors"]
    fields = readonly_fields + ["resolved_at", "resolution_note"]
    actions = [export_as_csv, "mark_resolved"]

    @admin.display(description=_("errors"))
    def error_summary(self, obj: QuarantinedRecord) -> str:
        return "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in (obj.errors or {}).items())[:200]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Mark as resolved"))
    def mark_resolved(self, request, queryset):
        from django.utils import timezone

        updated = queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
        self.message_user(request, _("%(n)d records marked resolved.") % {"n": updated}, messages.SUCCESS)


# --- Bills and payments -----------------------------------------------------------------


def _party(data: dict) -> str:
    """Frozen seller/buyer details as readable lines rather than raw JSON."""
    from django.utils.html import format_html_join

    labels = {
        "name": _("name"),
        "tax_id": _("unified social credit code"),
        "address": _("address"),
        "phone": _("phone"),
        "bank_name": _("bank"),
        "bank_account": _("bank account"),
        "email": _("e-mail"),
    }
    rows = [(labels[k], data[k]) for k in labels if data.get(k)]
    return format_html_join("", "<div>{}: {}</div>", rows) or "—"


EVENT_LABELS = {
    "issued": _("issued"),
    "held": _("held in draft"),
    "pdf_rendered": _("PDF rendered"),
    "emailed": _("e-mailed"),
    "email_skipped": _("e-mail skipped"),
    "payment": _("payment recorded"),
    "credit_applied": _("credit applied"),
    "overdue": _("became overdue"),
    "reminder_sent": _("reminder sent"),
    "confirmed": _("statement confirmed"),
    "disputed": _("statement disputed"),
    "void": _("voided"),
}


class BillActionForm(ActionForm):
    reason = forms.CharField(label=_("reason (void)"), required=False, max_length=500)


class BillLineInline(admin.TabularInline):
    model = BillLine
    extra = 0
    can_delete = False
    fields = [
        "kind",
        "period",
        "project",
        "provider",
        "model",
        "requests",
        "input_tokens",
        "cached_input_tokens",
        "output_tokens",
        "discount_percent",
        "exchange_rates",
        "price_versions",
        "amount",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class BillEventInline(admin.TabularInline):
    model = BillEvent
    extra = 0
    can_delete = False
    fields = ["at", "event", "actor", "data"]
    readonly_fields = fields

    @admin.display(description=_("event"))
    def event(self, obj: BillEvent) -> str:
        return str(EVENT_LABELS.get(obj.kind, obj.kind))

    def has_add_permission(self, request, obj=None):
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    fields = ["received_on", "method", "amount", "applied", "reference", "payer_name", "payer_mismatch", "recorded_by"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Bill)
class BillAdmin(admin.ModelAdmin):
    """Bills are written by the close only; the admin reads them and calls services."""

    list_display = [
        "__str__",
        "customer",
        "project",
        "period_label",
        "status",
        "confirmation",
        "total",
        "amount_paid",
        "due_on",
        "has_pdf",
        "held",
    ]
    list_filter = ["status", "confirmation", PeriodFilter, "customer"]
    search_fields = ["number", "customer__code", "customer__name", "hold_reason"]
    date_hierarchy = "period"
    list_select_related = ["customer", "project"]
    inlines = [BillLineInline, PaymentInline, BillEventInline]
    action_form = BillActionForm
    actions = [export_as_csv, "close_again", "render_pdf", "void_bills", "reissue_bills"]
    exclude = ["pdf"]

    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "customer",
                    "project",
                    "contract",
                    "period_label",
                    "revision",
                    "replaces",
                    "status",
                    "hold_reason",
                ]
            },
        ),
        (
            _("Amounts"),
            {
                "fields": [
                    "currency",
                    "exchange_rate",
                    "discount_percent",
                    "vat_rate",
                    "subtotal",
                    "vat",
                    "total",
                    "amount_paid",
                ]
            },
        ),
        (_("Dates"), {"fields": ["issued_on", "due_on", "pdf_rendered_at", "emailed_at", "reminded_at"]}),
        (
            _("Statement confirmation"),
            {"fields": ["confirmation", "confirmation_note", "confirmed_at", "confirmed_by"]},
        ),
        (_("Parties (frozen at issue)"), {"fields": ["seller_details", "buyer_details"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [name for _title, opts in self.fieldsets for name in opts["fields"]]

    def has_change_permission(self, request, obj=None):
        # Bills are documents: their page is read-only; the actions call the services.
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description=_("seller"))
    def seller_details(self, obj: Bill) -> str:
        return _party(obj.seller)

    @admin.display(description=_("buyer"))
    def buyer_details(self, obj: Bill) -> str:
        return _party(obj.buyer)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("period"), ordering="period")
    def period_label(self, obj: Bill) -> str:
        return format_period(obj.period)

    @admin.display(boolean=True, description=_("PDF"))
    def has_pdf(self, obj: Bill) -> bool:
        return bool(obj.pdf)

    @admin.display(description=_("why it is held"))
    def held(self, obj: Bill) -> str:
        return obj.hold_reason[:120]

    @admin.action(description=_("Close again (rebuild drafts, issue when possible)"))
    def close_again(self, request, queryset):
        from billing.close import month_close_customer

        for bill in queryset:
            for outcome in month_close_customer(customer=bill.customer, period=bill.period, actor=request.user):
                level = messages.WARNING if outcome.action == "held" else messages.SUCCESS
                self.message_user(request, outcome.line(), level)

    @admin.action(description=_("Regenerate PDF"))
    def render_pdf(self, request, queryset):
        from billing.documents import bill_render_pdf

        for bill in queryset:
            if bill.status == Bill.Status.DRAFT:
                self.message_user(request, _("%(bill)s: a draft has no PDF.") % {"bill": bill}, messages.WARNING)
                continue
            bill_render_pdf(bill_id=bill.pk)
            self.message_user(request, _("%(bill)s: PDF rendered.") % {"bill": bill}, messages.SUCCESS)

    @admin.action(description=_("Void (give the reason above)"))
    def void_bills(self, request, queryset):
        from billing.payments import bill_void

        reason = request.POST.get("reason", "").strip()
        for bill in queryset:
            try:
                bill_void(bill=bill, reason=reason, actor=request.user)
            except (ValidationError, Conflict) as exc:
                self.message_user(
                    request,
                    f"{bill}: {getattr(exc, 'detail', '; '.join(getattr(exc, 'messages', [str(exc)])))}",
                    messages.ERROR,
                )
                continue
            self.message_user(request, _("%(bill)s voided.") % {"bill": bill}, messages.SUCCESS)

    @admin.action(description=_("Reissue voided bills (…-R1)"))
    def reissue_bills(self, request, queryset):
        from billing.payments import bill_reissue

        for bill in queryset:
            try:
                outcomes = bill_reissue(bill=bill, actor=request.user)
            except Conflict as exc:
                self.message_user(request, f"{bill}: {exc.detail}", messages.ERROR)
                continue
            for outcome in outcomes:
                self.message_user(request, outcome.line(), messages.SUCCESS)


class PaymentForm(forms.ModelForm):
    amount_value = forms.DecimalField(
        label=_("amount (CNY)"), max_digits=14, decimal_places=2, min_value=Decimal("0.01")
    )

    class Meta:
        model = Payment
        fields = ["bill", "received_on", "reference", "payer_name", "note"]


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = [
        "received_on",
        "customer",
        "bill",
        "method",
        "amount",
        "applied",
        "reference",
        "payer_name",
        "payer_mismatch",
    ]
    actions = [export_as_csv]
    list_filter = ["method", "payer_mismatch", "received_on"]
    search_fields = ["reference", "payer_name", "customer__code", "bill__number"]
    date_hierarchy = "received_on"
    list_select_related = ["customer", "bill"]
    autocomplete_fields = ["bill"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = PaymentForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [f.name for f in Payment._meta.fields]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        from billing.payments import payment_record

        try:
            payment, _created = payment_record(
                bill=form.cleaned_data["bill"],
                amount=form.cleaned_data["amount_value"],
                received_on=form.cleaned_data["received_on"],
                reference=form.cleaned_data.get("reference", ""),
                payer_name=form.cleaned_data.get("payer_name", ""),
                note=form.cleaned_data.get("note", ""),
                actor=request.user,
            )
        except (ValidationError, Conflict) as exc:
            self.message_user(request, str(getattr(exc, "detail", exc)), messages.ERROR)
            return
        obj.pk = payment.pk
        if payment.payer_mismatch:
            self.message_user(
                request, _("The payer name differs from the customer (三流一致); please review."), messages.WARNING
            )


@admin.register(SellerProfile)
class SellerProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "effective_from", "tax_id", "taxpayer_kind", "vat_rate", "bank_account"]
    date_hierarchy = "effective_from"


@admin.register(CreditEntry)
class CreditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "customer", "amount", "payment", "bill"]
    list_filter = ["customer"]
    readonly_fields = ["customer", "amount", "payment", "bill", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Budgets and alerts ---------------------------------------------------------------------


class AlertDeliveryInline(admin.TabularInline):
    model = AlertDelivery
    extra = 0
    can_delete = False
    fields = ["channel", "status", "attempts", "last_error", "sent_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    list_display = [
        "customer",
        "scope",
        "project",
        "api_key",
        "monthly_amount",
        "currency",
        "thresholds",
        "hard_limit",
        "is_active",
    ]
    list_filter = ["scope", "hard_limit", "is_active", "currency"]
    search_fields = ["customer__code", "customer__name", "project__code", "api_key__key_id"]
    autocomplete_fields = ["customer", "project", "api_key"]
    list_select_related = ["customer", "project", "api_key"]
    readonly_fields = ["created_at", "created_by"]

    def save_model(self, request, obj, form, change):
        from billing.budgets import budget_create, budget_target, budget_update

        terms = {
            "scope": obj.scope,
            "target": budget_target(obj),
            "monthly_amount": obj.monthly_amount,
            "currency": obj.currency,
            "thresholds": obj.thresholds,
            "hard_limit": obj.hard_limit,
            "channels": obj.channels,
        }
        try:
            if change:
                saved = budget_update(budget=obj, is_active=obj.is_active, **terms)
            else:
                saved = budget_create(customer=obj.customer, actor=request.user, **terms)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        obj.pk = saved.pk


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "customer",
        "kind",
        "threshold",
        "period_label",
        "amount",
        "short_message",
        "delivered",
    ]
    actions = [export_as_csv]
    list_filter = ["kind", PeriodFilter, "customer"]
    search_fields = ["customer__code", "customer__name", "message"]
    date_hierarchy = "created_at"
    list_select_related = ["customer"]
    inlines = [AlertDeliveryInline]
    readonly_fields = [
        "customer",
        "budget",
        "kind",
        "threshold",
        "period",
        "amount",
        "currency",
        "message",
        "data",
        "dedupe_key",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("period"), ordering="period")
    def period_label(self, obj: Alert) -> str:
        return format_period(obj.period)

    @admin.display(description=_("message"))
    def short_message(self, obj: Alert) -> str:
        return obj.message[:90]

    @admin.display(description=_("delivered"))
    def delivered(self, obj: Alert) -> str:
        deliveries = list(obj.deliveries.all())
        sent = sum(d.status == AlertDelivery.Status.SENT for d in deliveries)
        return f"{sent}/{len(deliveries)}"
