"""Admin for the price book, exchange rates, daily usage and quarantined records."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from billing import services
from billing.alerts import alert_summary
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
from common.admin_display import count_text, details_html, money_column, money_text, party_html, rates_text
from common.admin_export import export_as_csv, export_as_xlsx
from common.admin_forms import ServiceModelForm, action_with_form, partial_form
from common.admin_links import document_links
from common.api import Conflict
from customers.admin import CustomerAdmin
from customers.models import Customer


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
    actions = [export_as_csv, export_as_xlsx]
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
    actions = [export_as_csv, export_as_xlsx]
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
    actions = [export_as_csv, export_as_xlsx]
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
    actions = [export_as_csv, export_as_xlsx, "mark_resolved"]

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
LINE_KIND_LABELS = dict(BillLine.Kind.choices)
BILL_STATUS_LABELS = dict(Bill.Status.choices)
DOCUMENT_INLINE = "admin/edit_inline/tabular_document.html"


class VoidForm(forms.Form):
    reason = forms.CharField(
        label=_("reason for voiding"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Kept in each bill's history and on the red-letter invoices that reverse its invoices."),
    )


class BillLineInline(admin.TabularInline):
    model = BillLine
    extra = 0
    can_delete = False
    template = DOCUMENT_INLINE
    fields = [
        "kind",
        "usage_period",
        "project",
        "provider",
        "model",
        "request_count",
        "input_token_count",
        "cached_token_count",
        "output_token_count",
        "discount_percent",
        "rates",
        "price_versions",
        "amount",
    ]
    readonly_fields = fields

    @admin.display(description=_("usage period"))
    def usage_period(self, obj: BillLine) -> str:
        return format_period(obj.period)

    @admin.display(description=_("requests"))
    def request_count(self, obj: BillLine) -> str:
        return count_text(obj.requests)

    @admin.display(description=_("input tokens"))
    def input_token_count(self, obj: BillLine) -> str:
        return count_text(obj.input_tokens)

    @admin.display(description=_("cached input tokens"))
    def cached_token_count(self, obj: BillLine) -> str:
        return count_text(obj.cached_input_tokens)

    @admin.display(description=_("output tokens"))
    def output_token_count(self, obj: BillLine) -> str:
        return count_text(obj.output_tokens)

    @admin.display(description=_("rates used"))
    def rates(self, obj: BillLine) -> str:
        return rates_text(obj.exchange_rates)

    def has_add_permission(self, request, obj=None):
        return False


class BillEventInline(admin.TabularInline):
    model = BillEvent
    extra = 0
    can_delete = False
    template = DOCUMENT_INLINE
    fields = ["at", "event", "actor", "details"]
    readonly_fields = fields

    @admin.display(description=_("event"))
    def event(self, obj: BillEvent) -> str:
        return str(EVENT_LABELS.get(obj.kind, obj.kind))

    @admin.display(description=_("details"))
    def details(self, obj: BillEvent) -> str:
        return details_html(obj.data, values=BILL_STATUS_LABELS)

    def has_add_permission(self, request, obj=None):
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    template = DOCUMENT_INLINE
    show_change_link = True
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
        "total_cny",
        "paid_cny",
        "balance_due",
        "due_on",
        "pdf_links",
        "held",
    ]
    list_filter = ["status", "confirmation", PeriodFilter, "customer"]
    search_fields = ["number", "customer__code", "customer__name", "hold_reason"]
    date_hierarchy = "period"
    list_select_related = ["customer", "project"]
    inlines = [BillLineInline, PaymentInline, BillEventInline]
    actions = [
        export_as_csv,
        export_as_xlsx,
        "close_again",
        "reprice_and_close",
        "render_pdf",
        "void_bills",
        "reissue_bills",
    ]
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
                    "next_step",
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
                    "subtotal_cny",
                    "vat_cny",
                    "total_cny",
                    "paid_cny",
                    "balance_due",
                ]
            },
        ),
        (_("Dates"), {"fields": ["issued_on", "due_on", "pdf_links", "pdf_rendered_at", "emailed_at", "reminded_at"]}),
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

    def get_urls(self):
        from django.urls import path

        from billing.admin_receivables import receivables_aging_view

        aging = self.admin_site.admin_view(lambda request: receivables_aging_view(self, request))
        return [path("aging/", aging, name="billing_bill_aging"), *super().get_urls()]

    subtotal_cny = money_column("subtotal", _("subtotal"))
    vat_cny = money_column("vat", _("VAT"))
    total_cny = money_column("total", _("total"))
    paid_cny = money_column("amount_paid", _("amount paid"))

    @admin.display(description=_("seller"))
    def seller_details(self, obj: Bill) -> str:
        return party_html(obj.seller)

    @admin.display(description=_("buyer"))
    def buyer_details(self, obj: Bill) -> str:
        return party_html(obj.buyer)

    @admin.display(description=_("balance"))
    def balance_due(self, obj: Bill) -> str:
        if obj.status in (Bill.Status.DRAFT, Bill.Status.VOID):
            return "—"
        return money_text(obj.balance)

    @admin.display(description=_("what to do"))
    def next_step(self, obj: Bill) -> str:
        """On a held draft: what finance fixes, with a link to the form that fixes it."""
        if obj.status != Bill.Status.DRAFT:
            return "—"
        steps = []
        unpriced = (
            UsageRollup.objects.filter(
                customer_id=obj.customer_id, price_version__isnull=True, bill_period__lte=obj.period
            )
            .values_list("provider", "model")
            .distinct()
            .order_by("provider", "model")
        )
        for provider, model in unpriced:
            url = reverse("admin:billing_priceversion_add") + "?" + urlencode({"provider": provider, "model": model})
            steps.append(
                format_html(
                    '<div><a href="{}">{}</a></div>',
                    url,
                    _("Add the price of %(model)s") % {"model": f"{provider}/{model}"},
                )
            )
        if steps:
            steps.append(
                format_html(
                    "<div>{}</div>",
                    _("Then choose “Re-price held usage and close again” for this bill in the bill list."),
                )
            )
        elif obj.hold_reason:
            steps.append(
                format_html("<div>{}</div>", _("Fix the cause above, then choose “Close again” in the bill list."))
            )
        return format_html_join("", "{}", ((step,) for step in steps)) or "—"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("period"), ordering="period")
    def period_label(self, obj: Bill) -> str:
        return format_period(obj.period)

    @admin.display(description=_("PDF"))
    def pdf_links(self, obj: Bill) -> str:
        # A draft has no PDF; an issued bill's is rendered on first open if it is missing.
        number = obj.number if obj.status != Bill.Status.DRAFT else None
        return document_links("documents:bill-pdf", number)

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

    @admin.action(description=_("Re-price held usage and close again"))
    def reprice_and_close(self, request, queryset):
        """After a missing price is added: price the usage stored as unpriced, then rebuild
        and issue the bill (what `reprice_usage` + `close_month` do from the shell)."""
        from billing.close import month_close_customer

        for bill in queryset.select_related("customer"):
            if bill.status != Bill.Status.DRAFT:
                self.message_user(
                    request, _("%(bill)s is not a draft; nothing to re-price.") % {"bill": bill}, messages.WARNING
                )
                continue
            periods = sorted(
                {
                    day.replace(day=1)
                    for day in UsageRollup.objects.filter(
                        customer_id=bill.customer_id, price_version__isnull=True, bill_period__lte=bill.period
                    ).values_list("day", flat=True)
                }
            )
            repriced = sum(services.usage_reprice(period=period)["repriced"] for period in periods)
            self.message_user(
                request, _("%(bill)s: %(n)d usage records re-priced.") % {"bill": bill, "n": repriced}, messages.INFO
            )
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

    @admin.action(description=_("Void…"))
    def void_bills(self, request, queryset):
        from billing.payments import bill_void

        def void(bill: Bill, data: dict) -> str:
            bill_void(bill=bill, reason=data["reason"], actor=request.user)
            return _("%(bill)s voided.") % {"bill": bill}

        return action_with_form(
            self,
            request,
            queryset.select_related("customer"),
            form_class=VoidForm,
            title=_("Void bills"),
            intro=_(
                "Voiding cannot be undone. Invoices issued on these bills are reversed by red-letter invoices, "
                "and money already received becomes customer credit for the reissued bill."
            ),
            submit_label=_("Void these bills"),
            headings=[_("bill"), _("customer"), _("status"), _("total"), _("amount paid")],
            row=lambda b: [b, b.customer, b.get_status_display(), money_text(b.total), money_text(b.amount_paid)],
            perform=void,
        )

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


class PaymentForm(ServiceModelForm):
    """Recording a bank transfer is the payment service's job; the form only collects it."""

    amount_value = forms.DecimalField(
        label=_("amount (CNY)"), max_digits=14, decimal_places=2, min_value=Decimal("0.01")
    )
    service_fields = {"amount": "amount_value"}

    class Meta:
        model = Payment
        fields = ["bill", "received_on", "reference", "payer_name", "note"]

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        # Only bills that can take a payment are offered.
        self.fields["bill"].queryset = Bill.objects.filter(status__in=Bill.OPEN_STATUSES).select_related("customer")
        self.fields["bill"].required = True

    def perform(self, data: dict) -> Payment:
        from billing.payments import payment_record

        payment, created = payment_record(
            bill=data["bill"],
            amount=data["amount_value"],
            received_on=data["received_on"],
            reference=data.get("reference", ""),
            payer_name=data.get("payer_name", ""),
            note=data.get("note", ""),
            actor=self.actor,
        )
        if not created:  # the same transfer again: the service booked nothing
            raise ValidationError(
                {
                    "reference": _("This transfer is already recorded (%(payment)s); nothing new was booked.")
                    % {"payment": payment}
                }
            )
        return payment


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
    actions = [export_as_csv, export_as_xlsx]
    list_filter = ["method", "payer_mismatch", "received_on"]
    search_fields = ["reference", "payer_name", "customer__code", "bill__number"]
    date_hierarchy = "received_on"
    list_select_related = ["customer", "bill"]
    autocomplete_fields = ["bill"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = PaymentForm
            form = super().get_form(request, obj, **kwargs)
            return partial_form(form, actor=request.user)
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return super().get_fields(request, obj)
        return self.get_readonly_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # The money fields' currency columns (CNY) are implied by the amounts shown.
        return [f.name for f in Payment._meta.fields if not f.name.endswith("_currency") and f.name != "id"]

    def has_change_permission(self, request, obj=None):
        # A recorded payment is never edited (a wrong one is answered by a correcting entry).
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # The form's service call has written the payment (PaymentForm.perform).
        if not change and obj.payer_mismatch:
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

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


# --- Budgets and alerts ---------------------------------------------------------------------


class AlertDeliveryInline(admin.TabularInline):
    model = AlertDelivery
    extra = 0
    can_delete = False
    template = DOCUMENT_INLINE
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
                saved = budget_update(budget=obj, is_active=obj.is_active, staff=True, **terms)
            else:
                saved = budget_create(customer=obj.customer, actor=request.user, staff=True, **terms)
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
        "spend",
        "short_message",
        "delivered",
    ]
    actions = [export_as_csv, export_as_xlsx]
    list_filter = ["kind", PeriodFilter, "customer"]
    search_fields = ["customer__code", "customer__name", "message"]
    date_hierarchy = "created_at"
    list_select_related = ["customer"]
    inlines = [AlertDeliveryInline]
    fields = [
        "customer",
        "budget",
        "kind",
        "threshold",
        "period_label",
        "spend",
        "summary",
        "message",
        "details",
        "created_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # an alert is a record of what was said; it is never taken back

    @admin.display(description=_("period"), ordering="period")
    def period_label(self, obj: Alert) -> str:
        return format_period(obj.period)

    @admin.display(description=_("spend when fired"), ordering="amount")
    def spend(self, obj: Alert) -> str:
        return money_text(obj.amount) if obj.currency == "CNY" else f"{obj.amount} {obj.currency}"

    @admin.display(description=_("details"))
    def details(self, obj: Alert) -> str:
        return details_html(obj.data)

    @admin.display(description=_("what happened"))
    def short_message(self, obj: Alert) -> str:
        return alert_summary(obj)[:120]

    @admin.display(description=_("what happened"))
    def summary(self, obj: Alert) -> str:
        return alert_summary(obj)

    @admin.display(description=_("delivered"))
    def delivered(self, obj: Alert) -> str:
        deliveries = list(obj.deliveries.all())
        sent = sum(d.status == AlertDelivery.Status.SENT for d in deliveries)
        return f"{sent}/{len(deliveries)}"


# --- The customer's page: what it owes ---------------------------------------------------------
# customers cannot import billing (dependencies point billing → customers), so the customer
# admin gains its receivables here.

admin.site.unregister(Customer)


@admin.register(Customer)
class BillingCustomerAdmin(CustomerAdmin):
    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fieldsets.append((_("Receivables"), {"fields": ["receivables"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *(["receivables"] if obj else [])]

    @admin.display(description=_("open bills, balance and credit"))
    def receivables(self, obj: Customer) -> str:
        from billing.admin_receivables import customer_receivables_html

        return customer_receivables_html(obj)
