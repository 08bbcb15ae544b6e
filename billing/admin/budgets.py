"""Admin: budgets (through the budget service) and the alerts they fired."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from billing.admin.shared import DOCUMENT_INLINE, PeriodFilter
from billing.budgets.feed import alert_summary
from billing.models import (
    Alert,
    AlertDelivery,
    Budget,
)
from billing.periods import format_period
from common.admin_display import amount_text, details_html, money_text
from common.admin_export import export_as_csv, export_as_xlsx

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
        "monthly_budget",
        "thresholds",
        "hard_limit",
        "is_active",
    ]
    list_filter = ["scope", "hard_limit", "is_active", "currency"]
    search_fields = ["customer__code", "customer__name", "project__code", "api_key__key_id"]
    autocomplete_fields = ["customer", "project", "api_key"]
    list_select_related = ["customer", "project", "api_key"]
    readonly_fields = ["channels_by_staff", "created_at", "created_by"]

    @admin.display(description=_("monthly amount"), ordering="monthly_amount")
    def monthly_budget(self, obj: Budget) -> str:
        return amount_text(obj.monthly_amount, obj.currency)

    def save_model(self, request, obj, form, change):
        from billing.budgets.budgets import budget_create, budget_target, budget_update

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
