"""HTTP API for budgets, alerts, the gateway allowance and cost insights."""

from __future__ import annotations

from decimal import Decimal

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import budgets
from billing.alerts import alerts_feed
from billing.models import Alert, Budget, Currency
from billing.periods import format_period, parse_period
from customers.access import (
    MANAGE_ROLES,
    READ_USAGE_ROLES,
    IsFinanceOrPortal,
    customer_for,
    is_finance,
    is_gateway,
    portal_membership,
)


class BudgetSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=Budget.Scope.choices)
    target = serializers.CharField(allow_null=True, required=False, default=None)
    monthly_amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    currency = serializers.ChoiceField(choices=Currency.choices, default="CNY")
    thresholds = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=1000), required=False, default=list
    )
    hard_limit = serializers.BooleanField(default=False)
    channels = serializers.ListField(child=serializers.CharField(max_length=500), required=False, default=list)

    def to_representation(self, b: Budget):
        target = (
            b.project.code
            if b.scope == Budget.Scope.PROJECT
            else b.api_key.key_id
            if b.scope == Budget.Scope.API_KEY
            else None
        )
        return {
            "id": b.pk,
            "customer": b.customer.code,
            "scope": b.scope,
            "target": target,
            "monthly_amount": f"{b.monthly_amount:.2f}",
            "currency": b.currency,
            "thresholds": b.thresholds,
            "hard_limit": b.hard_limit,
            "channels": b.channels,
            "is_active": b.is_active,
        }


class BudgetListCreate(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses=BudgetSerializer(many=True))
    def get(self, request: Request, code: str) -> Response:
        customer = customer_for(request.user, code, roles=READ_USAGE_ROLES)
        qs = customer.budgets.select_related("customer", "project", "api_key")
        return Response(BudgetSerializer(qs, many=True).data)

    @extend_schema(
        request=BudgetSerializer,
        responses={201: BudgetSerializer},
        examples=[
            OpenApiExample(
                "Customer-wide, WeCom and e-mail",
                value={
                    "scope": "customer",
                    "target": None,
                    "monthly_amount": "20000.00",
                    "currency": "CNY",
                    "thresholds": [50, 80, 100],
                    "hard_limit": False,
                    "channels": ["ops@acme.example.cn", "wecombot://YOUR-BOT-KEY"],
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, code: str) -> Response:
        customer = customer_for(request.user, code, roles=MANAGE_ROLES)
        serializer = BudgetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        budget = budgets.budget_create(
            customer=customer, actor=request.user, staff=is_finance(request.user), **serializer.validated_data
        )
        return Response(BudgetSerializer(budget).data, status=status.HTTP_201_CREATED)


def alert_json(alert: Alert) -> dict:
    return {
        "id": alert.pk,
        "customer": alert.customer.code,
        "budget": alert.budget_id,
        "kind": alert.kind,
        "threshold": alert.threshold,
        "period": format_period(alert.period),
        "amount": f"{alert.amount:.2f}",
        "currency": alert.currency,
        "message": alert.message,
        "data": alert.data,
        "created_at": alert.created_at.isoformat(),
        "delivered_to": [d.channel for d in alert.deliveries.all() if d.status == "sent"],
        "deliveries": [
            {"channel": d.channel, "status": d.status, "attempts": d.attempts, "error": d.last_error}
            for d in alert.deliveries.all()
        ],
    }


class AlertList(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(
        parameters=[
            OpenApiParameter("customer", str),
            OpenApiParameter("period", str),
            OpenApiParameter("kind", str, enum=list(Alert.Kind.values)),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        if params.get("customer"):
            customer_ids = [customer_for(request.user, params["customer"], roles=READ_USAGE_ROLES).pk]
        elif is_finance(request.user):
            customer_ids = None
        else:
            customer_ids = [portal_membership(request.user).customer_id]
        qs = alerts_feed(customer_ids=customer_ids, period=params.get("period", ""), kind=params.get("kind", ""))
        return Response([alert_json(a) for a in qs[:500]])


class KeyAllowanceView(APIView):
    """The gateway asks before forwarding a call: one query for the answer (after the token's)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, key_id: str) -> Response:
        user = request.user
        found = budgets.key_allowance_lookup(key_id=key_id)
        if found is None:
            raise Http404
        customer_id, answer = found
        if not (is_gateway(user) or is_finance(user)):
            membership = portal_membership(user)
            if membership is None:
                raise PermissionDenied()
            if membership.customer_id != customer_id:
                raise Http404
        return Response(answer)


class CostInsights(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(parameters=[OpenApiParameter("period", str)], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, code: str) -> Response:
        from billing.insights import cost_insights
        from billing.periods import current_period

        customer = customer_for(request.user, code, roles=READ_USAGE_ROLES)
        try:
            period = (
                parse_period(request.query_params["period"]) if request.query_params.get("period") else current_period()
            )
        except ValueError as exc:
            raise ValidationError({"period": [_("Write the period as YYYY-MM.")]}) from exc
        return Response(cost_insights(customer=customer, period=period))
