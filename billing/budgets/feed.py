"""Reading alerts: the feed the API and the portal show, and each alert in the reader's language."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from billing.models import Alert
from billing.periods import format_period
from common.admin_display import money_text


def alerts_feed(*, customer_ids: list[int] | None) -> QuerySet[Alert]:
    """The alerts of these customers (None: every customer's), newest first, with what
    their pages show; GET /alerts/ and the portal narrow it by billing.api.filters.AlertFilter."""
    qs = Alert.objects.select_related("customer", "budget__customer", "budget__project", "budget__api_key")
    qs = qs.prefetch_related("deliveries").order_by("-created_at", "-pk")
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=customer_ids)
    return qs


def alert_summary(alert: Alert) -> str:
    """The alert in the reader's language, from its stored facts (the ``message`` field keeps
    the text as it was sent, in the language of the day it fired)."""
    facts = {
        "budget": str(alert.budget) if alert.budget_id else alert.customer.code,
        "spend": money_text(alert.amount),
        "t": alert.threshold,
        "period": format_period(alert.period),
        **{k: v for k, v in (alert.data or {}).items() if isinstance(v, str | int)},
    }
    if alert.kind == Alert.Kind.THRESHOLD:
        return _("%(budget)s: %(spend)s spent in %(period)s, past the %(t)s%% threshold.") % facts
    if alert.kind == Alert.Kind.FORECAST and "projected" in facts:
        return _(
            "%(budget)s: at the current pace %(period)s ends near %(projected)s, reaching the budget around %(expected_date)s."
        ) % {**facts, "projected": money_text(Decimal(facts["projected"]))}
    if alert.kind == Alert.Kind.CREDIT and "limit" in facts:
        text = (
            _(
                "%(customer)s has used %(t)s%% of its credit limit %(limit)s: unpaid bills %(unpaid)s and "
                "%(month_to_date)s spent this month (%(exposure)s)."
            )
            % facts
        )
        if (alert.threshold or 0) >= 100:
            text += " " + _("API calls are refused until a payment brings it below the limit.")
        return text
    if alert.kind == Alert.Kind.ANOMALY:
        scope = facts.get("scope")
        if scope == "month_over_month":
            return (
                _("%(budget)s: spend so far in %(period)s (%(spend)s) is well above the same days last month.") % facts
            )
        if scope == "api_key_model":
            return _("Key %(key_id)s spent %(spend)s on %(model)s on %(day)s, far above its usual day.") % facts
        if "day" in facts:
            return _("%(budget)s spent %(spend)s on %(day)s, far above its usual day.") % facts
    return alert.message
