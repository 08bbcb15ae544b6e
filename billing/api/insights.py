"""API: a customer's cost insights."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.periods import parse_period
from customers.access import (
    READ_USAGE_ROLES,
    IsFinanceOrPortal,
    customer_for,
)


class CostInsights(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(parameters=[OpenApiParameter("period", str)], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, code: str) -> Response:
        from billing.insights.costs import cost_insights
        from billing.periods import current_period

        customer = customer_for(request.user, code, roles=READ_USAGE_ROLES)
        try:
            period = (
                parse_period(request.query_params["period"]) if request.query_params.get("period") else current_period()
            )
        except ValueError as exc:
            raise ValidationError({"period": [_("Write the period as YYYY-MM.")]}) from exc
        return Response(cost_insights(customer=customer, period=period))
