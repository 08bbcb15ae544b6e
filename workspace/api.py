"""HTTP API of the workspace (finance only): the reconciliation and provider cost imports.

Figures are the selector's (``workspace.selectors.reconciliation``), as on the page;
money as two-decimal strings beside ``currency``, token counts as integers, percentages
as two-decimal strings.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.periods import period_from, previous_period
from common.uploads import MAX_UPLOAD_BYTES
from customers.permissions import IsFinance
from workspace.forms import UPLOAD_TOO_LARGE
from workspace.models import Provider, ProviderCostImport
from workspace.parsers import UnreadableFile
from workspace.selectors import CustomerRow, ModelRow, Reconciliation, Tokens, reconciliation
from workspace.services import provider_costs_import


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _tokens(tokens: Tokens | None) -> dict | None:
    if tokens is None:
        return None
    return {
        "requests": tokens.requests,
        "input_tokens": tokens.input_tokens,
        "cached_input_tokens": tokens.cached_input_tokens,
        "output_tokens": tokens.output_tokens,
    }


def model_row_data(row: ModelRow) -> dict:
    return {
        "provider": row.provider,
        "model": row.model,
        "metered": _tokens(row.ours),
        "provider_usage": _tokens(row.theirs),
        "token_difference_percent": _money(row.token_difference_percent),
        "disagrees": row.disagrees,
        "provider_cost": None if row.provider_cost is None else f"{row.provider_cost:f}",
        "provider_currency": row.provider_currency or None,
        "cost": _money(row.cost),
        "revenue": _money(row.revenue),
        "revenue_estimated": row.estimated,
        "margin": _money(row.margin),
        "margin_percent": _money(row.margin_percent),
    }


def customer_row_data(row: CustomerRow) -> dict:
    return {
        "customer": row.customer,
        "provider": row.provider,
        "model": row.model,
        "tokens": row.tokens,
        "cost": _money(row.cost),
        "revenue": _money(row.revenue),
        "revenue_estimated": row.estimated,
        "margin": _money(row.margin),
        "margin_percent": _money(row.margin_percent),
    }


def reconciliation_data(rec: Reconciliation) -> dict:
    return {
        "period": rec.period_label,
        "currency": "CNY",
        "missing_rates": rec.missing_rates,
        "provider_cost_imported": rec.cost_imported,
        "provider_usage_imported": rec.usage_imported,
        "totals": {
            "cost": _money(rec.cost),
            "revenue": _money(rec.revenue),
            "other_revenue": _money(rec.other_revenue),
            "margin": _money(rec.margin),
            "margin_percent": _money(rec.margin_percent),
        },
        "models": [model_row_data(row) for row in rec.rows],
        "customers": [customer_row_data(row) for row in rec.customer_rows],
        "disagreements": [model_row_data(row) for row in rec.disagreements],
    }


class ReconciliationView(APIView):
    permission_classes = [IsFinance]

    @extend_schema(
        parameters=[OpenApiParameter("period", str, description="YYYY-MM; default: the last closed period.")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        value = request.query_params.get("period")
        try:
            period = period_from(value) if value else previous_period()
        except DjangoValidationError as exc:
            raise ValidationError({"period": exc.messages}) from exc
        return Response(reconciliation_data(reconciliation(period=period)))


def import_data(record: ProviderCostImport) -> dict:
    return {
        "id": record.pk,
        "provider": record.provider,
        "kind": record.kind,
        "file_name": record.file_name,
        "uploaded_at": record.uploaded_at.isoformat(),
        "row_count": record.row_count,
        "errors": record.errors,
        "more_errors": record.more_errors,
    }


class ProviderCostImportCreate(APIView):
    permission_classes = [IsFinance]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=inline_serializer(
            "ProviderCostUpload",
            {"provider": serializers.ChoiceField(choices=Provider.choices), "file": serializers.FileField()},
        ),
        responses={201: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        provider = request.data.get("provider")
        upload = request.FILES.get("file")
        errors = {}
        if provider not in Provider.values:
            errors["provider"] = [_("One of: %(choices)s.") % {"choices": ", ".join(Provider.values)}]
        if upload is None:
            errors["file"] = [_("Attach the export file.")]
        elif upload.size > MAX_UPLOAD_BYTES:
            errors["file"] = [str(UPLOAD_TOO_LARGE)]
        if errors:
            raise ValidationError(errors)
        try:
            record = provider_costs_import(
                provider=provider, file_name=upload.name or "", content=upload, actor=request.user
            )
        except UnreadableFile as exc:
            raise ValidationError({"file": [str(exc)]}) from exc
        return Response(import_data(record), status=status.HTTP_201_CREATED)
