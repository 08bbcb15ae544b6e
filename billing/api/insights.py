"""API: a customer's cost insights."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api.filters import InsightsQuery
from billing.periods import current_period
from common.api import query
from customers.access import (
    READ_USAGE_ROLES,
    customer_for,
)
from customers.permissions import IsFinanceOrPortal


class CostInsights(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(parameters=[OpenApiParameter("period", str)], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, code: str) -> Response:
        from billing.insights.costs import cost_insights

        customer = customer_for(request.user, code, roles=READ_USAGE_ROLES)
        period = query(InsightsQuery, request).get("period") or current_period()
        return Response(cost_insights(customer=customer, period=period))
