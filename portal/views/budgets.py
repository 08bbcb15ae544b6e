"""Budgets (``/portal/budgets/``): each budget's use this month as a gauge; an admin creates
and edits them (billing.budgets.budgets validates) and sends a test to each channel."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from billing.budgets.alerts import TestSendLimit, channel_test_send
from billing.budgets.budgets import budget_create, budget_target, budget_update
from billing.budgets.spend import budget_use
from billing.models import Budget, Currency
from common.admin_forms import errors_onto_form
from common.charts import gauge
from common.integers import NotWholeNumber, whole_number
from customers.access import MANAGE_ROLES, READ_USAGE_ROLES
from portal.access import forbidden, portal_view


class BudgetForm(forms.Form):
    scope = forms.ChoiceField(label=gettext_lazy("Applies to"), choices=Budget.Scope.choices)
    target = forms.ChoiceField(
        label=gettext_lazy("Project or key"),
        required=False,
        help_text=gettext_lazy("For a project's or a key's budget; empty for the whole company."),
    )
    monthly_amount = forms.DecimalField(
        label=gettext_lazy("Monthly amount"), max_digits=14, decimal_places=2, localize=False
    )
    currency = forms.ChoiceField(label=gettext_lazy("Currency"), choices=Currency.choices, initial=Currency.CNY)
    thresholds = forms.CharField(
        label=gettext_lazy("Alert thresholds (%)"),
        initial="50, 80, 100",
        help_text=gettext_lazy("Percentages of the budget, separated by commas."),
    )
    hard_limit = forms.BooleanField(
        label=gettext_lazy("Hard limit: block the key(s) once the budget is used up"), required=False
    )
    channels = forms.CharField(
        label=gettext_lazy("Alert channels"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "One a line: an e-mail address, or a WeCom (wecombot://...), DingTalk (dingtalk://...), "
            "Feishu/Lark (feishu://..., lark://...) or Slack (slack://... or https://hooks.slack.com/...) webhook."
        ),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(self, *args, customer, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        projects = [(p.code, f"{_('Project')} {p.name} ({p.code})") for p in customer.projects.order_by("code")]
        keys = [
            (k.key_id, f"{_('Key')} {k.name} ({k.key_id})")
            for k in customer.api_keys.filter(revoked_at__isnull=True).order_by("name")
        ]
        self.fields["target"].choices = [("", "—"), (_("Projects"), projects), (_("API keys"), keys)]
        if not editing:
            del self.fields["is_active"]

    def clean_thresholds(self) -> list[int]:
        parts = [p.strip() for p in self.cleaned_data["thresholds"].replace("，", ",").split(",") if p.strip()]
        try:
            return [whole_number(p) for p in parts]
        except NotWholeNumber:
            raise ValidationError(_("Write whole percentages separated by commas, e.g. 50, 80, 100.")) from None

    def clean_channels(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["channels"].splitlines() if line.strip()]

    def terms(self) -> dict:
        data = dict(self.cleaned_data)
        data["target"] = data["target"] or None
        return data


def _initial(budget: Budget) -> dict:
    return {
        "scope": budget.scope,
        "target": budget_target(budget) or "",
        "monthly_amount": budget.monthly_amount,
        "currency": budget.currency,
        "thresholds": ", ".join(str(t) for t in budget.thresholds),
        "hard_limit": budget.hard_limit,
        "channels": "\n".join(budget.channels),
        "is_active": budget.is_active,
    }


def _row(budget: Budget) -> dict:
    """A budget with its use as the evaluation sees it (budget_use), and the gauge of it."""
    spend, limit = budget_use(budget)
    row = {"budget": budget, "target": budget_target(budget), "spend": spend, "limit": limit}
    if limit:
        row["percent"] = (spend * 100 / limit).quantize(Decimal("0.1"))
        row["gauge"] = gauge(
            spend, limit, thresholds=[Decimal(t) for t in budget.thresholds], label=_("Spend this month")
        )
    return row


def _budgets_of(customer):
    return customer.budgets.select_related("customer", "project", "api_key").order_by("-is_active", "scope", "pk")


@require_http_methods(["GET", "POST"])
@portal_view(READ_USAGE_ROLES)
def budgets(request):
    """GET: the customer's budgets with their use. POST (admin): create one."""
    customer = request.portal.customer
    manages = request.portal.role in MANAGE_ROLES
    if request.method == "POST" and not manages:
        return forbidden(request)
    form = BudgetForm(request.POST or None, customer=customer) if manages else None
    if request.method == "POST" and form.is_valid():
        try:
            budget_create(customer=customer, actor=request.user, **form.terms())
        except ValidationError as exc:
            errors_onto_form(form, exc)
        else:
            messages.success(request, _("The budget is saved."))
            return redirect("portal:budgets")
    rows = [_row(b) for b in _budgets_of(customer)]
    return render(request, "portal/budgets.html", {"rows": rows, "form": form, "manages": manages})


@require_http_methods(["GET", "POST"])
@portal_view(MANAGE_ROLES)
def budget_edit(request, pk: int):
    customer = request.portal.customer
    budget = get_object_or_404(_budgets_of(customer), pk=pk)
    form = BudgetForm(request.POST or None, customer=customer, editing=True, initial=_initial(budget))
    if request.method == "POST" and form.is_valid():
        try:
            budget_update(budget=budget, **form.terms())
        except ValidationError as exc:
            errors_onto_form(form, exc)
        else:
            messages.success(request, _("The budget is saved."))
            return redirect("portal:budgets")
    return render(request, "portal/budget_edit.html", {"budget": budget, "form": form})


@require_POST
@portal_view(MANAGE_ROLES)
def budget_test(request, pk: int):
    """Send a test notification to one of the budget's channels (``channel``) by the path
    alerts take; the answer says only whether it went (a reason could reveal our network)."""
    budget = get_object_or_404(_budgets_of(request.portal.customer), pk=pk)
    channel = request.POST.get("channel", "")
    try:
        sent = channel in budget.channels and channel_test_send(budget=budget, channel=channel)
    except TestSendLimit as exc:
        messages.error(request, str(exc) + " " + _("Try again later."))
        return redirect("portal:budgets")
    if channel not in budget.channels:
        messages.error(request, _("This budget has no such channel."))
    elif sent:
        messages.success(request, _("A test notification was sent to %(channel)s.") % {"channel": channel})
    else:
        messages.error(
            request,
            _(
                "The test notification to %(channel)s could not be delivered. Check the address or webhook and try again."
            )
            % {"channel": channel},
        )
    return redirect("portal:budgets")
