"""API: budgets, alerts and the gateway's allowance."""

from __future__ import annotations

from decimal import Decimal

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api.filters import AlertFilter
from billing.budgets.alerts import TestSendLimit, channel_test_send
from billing.budgets.allowance import key_allowance_lookup
from billing.budgets.budgets import MAX_CHANNELS, MAX_THRESHOLDS, budget_create
from billing.budgets.feed import alerts_feed
from billing.models import Alert, Budget, Currency
from billing.periods import format_period
from common.api import WholeNumberField, filtered
from customers.access import (
    MANAGE_ROLES,
    READ_USAGE_ROLES,
    customer_for,
    is_finance,
    is_gateway,
    portal_membership,
)
from customers.permissions import IsFinanceOrPortal


class BudgetSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=Budget.Scope.choices)
    target = serializers.CharField(allow_null=True, required=False, default=None)
    monthly_amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    currency = serializers.ChoiceField(choices=Currency.choices, default="CNY")
    thresholds = serializers.ListField(
        child=WholeNumberField(min_value=1, max_value=1000),
        required=False,
        default=list,
        max_length=MAX_THRESHOLDS,
    )
    hard_limit = serializers.BooleanField(default=False)
    channels = serializers.ListField(
        child=serializers.CharField(max_length=500), required=False, default=list, max_length=MAX_CHANNELS
    )

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
        budget = budget_create(
            customer=customer, actor=request.user, staff=is_finance(request.user), **serializer.validated_data
        )
        return Response(BudgetSerializer(budget).data, status=status.HTTP_201_CREATED)


class BudgetTestSerializer(serializers.Serializer):
    channel = serializers.CharField(max_length=500)


class BudgetTestSend(APIView):
    """``POST /api/v1/customers/{code}/budgets/{id}/test/`` ``{channel}``: a test notification to
    one of the budget's channels → ``{channel, sent}``; at most 10 an hour per budget (429)."""

    permission_classes = [IsFinanceOrPortal]

    @extend_schema(
        request=BudgetTestSerializer,
        responses={
            200: inline_serializer(
                "BudgetTestResult", {"channel": serializers.CharField(), "sent": serializers.BooleanField()}
            ),
            404: None,
            429: None,
        },
    )
    def post(self, request: Request, code: str, pk: int) -> Response:
        customer = customer_for(request.user, code, roles=MANAGE_ROLES)
        budget = customer.budgets.select_related("customer").filter(pk=pk).first()
        if budget is None:
            raise Http404
        serializer = BudgetTestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        channel = serializer.validated_data["channel"]
        try:
            sent = channel_test_send(budget=budget, channel=channel)
        except TestSendLimit as exc:
            raise Throttled(wait=exc.retry_after, detail=str(exc)) from exc
        return Response({"channel": channel, "sent": sent})


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
        responses=inline_serializer(
            "Alert",
            {
                "id": serializers.IntegerField(),
                "customer": serializers.CharField(),
                "budget": serializers.IntegerField(allow_null=True),
                "kind": serializers.ChoiceField(choices=Alert.Kind.choices),
                "threshold": serializers.IntegerField(allow_null=True),
                "period": serializers.CharField(),
                "amount": serializers.DecimalField(max_digits=14, decimal_places=2),
                "currency": serializers.CharField(),
                "message": serializers.CharField(),
                "data": serializers.DictField(),
                "created_at": serializers.DateTimeField(),
                "delivered_to": serializers.ListField(child=serializers.CharField()),
                "deliveries": serializers.ListField(child=serializers.DictField()),
            },
            many=True,
        ),
    )
    def get(self, request: Request) -> Response:
        # ?customer= is narrowed, its access checked, by the filter; a portal user reads their own.
        everyone = request.query_params.get("customer") or is_finance(request.user)
        qs = alerts_feed(customer_ids=None if everyone else [portal_membership(request.user).customer_id])
        qs = filtered(AlertFilter, request, qs)
        return Response([alert_json(a) for a in qs[:500]])


class KeyAllowanceView(APIView):
    """The gateway asks before forwarding a call: one query for the answer (after the token's)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, key_id: str) -> Response:
        user = request.user
        staff_or_gateway = is_gateway(user) or is_finance(user)
        membership = None if staff_or_gateway else portal_membership(user)
        if not staff_or_gateway and membership is None:
            # Before the lookup: whether the key exists is no business of this caller.
            raise PermissionDenied()
        found = key_allowance_lookup(key_id=key_id)
        if found is None:
            raise Http404
        customer_id, answer = found
        if membership is not None and membership.customer_id != customer_id:
            raise Http404
        return Response(answer)
