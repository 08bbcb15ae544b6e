"""API: receivables aging and revenue (finance only)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api.filters import RevenueQuery
from billing.bills import receivables
from billing.periods import business_day
from common.api import query
from customers.permissions import IsFinance


class ReceivablesAging(APIView):
    permission_classes = [IsFinance]

    @extend_schema(
        parameters=[OpenApiParameter("as_of", str, description="YYYY-MM-DD (default today)")],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        from django.utils import timezone
        from django.utils.dateparse import parse_date

        as_of = parse_date(request.query_params.get("as_of") or "") or business_day(timezone.now())
        return Response(receivables.receivables_aging(as_of=as_of))


class Revenue(APIView):
    permission_classes = [IsFinance]

    @extend_schema(
        parameters=[OpenApiParameter("period", str), OpenApiParameter("group_by", str, enum=["customer", "model"])],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        params = query(RevenueQuery, request)
        return Response(receivables.revenue(period=params.get("period") or None, group_by=params["group_by"]))
