"""HTTP API: usage ingestion (gateway), price book, exchange rates, usage summary."""

from __future__ import annotations

import json
from datetime import datetime, time
from typing import Any

import orjson
from django.http import HttpResponse
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import services
from billing.ingest import MAX_BODY_BYTES, MAX_RECORDS, usage_ingest_batch
from billing.models import Currency, ExchangeRate, PriceVersion
from billing.periods import billing_tz, current_period, format_period, parse_period
from billing.selectors import GROUPINGS, usage_summary, usage_summary_csv, usage_summary_rows
from common.api import PayloadTooLarge
from customers.access import READ_USAGE_ROLES, IsFinance, IsFinanceOrPortal, IsGateway, customer_for, portal_membership

# --- Ingestion ------------------------------------------------------------------------

_record_example = {
    "request_id": "req_01JD8Z5T3K9",
    "key_id": "ak_3f9c2a7d1e0b4c5a6f70",
    "model": "gpt-4o",
    "provider": "openai",
    "input_tokens": 1200,
    "cached_input_tokens": 200,
    "output_tokens": 350,
    "occurred_at": "2026-11-28T09:30:00+08:00",
}


def _parse_batch(body: bytes) -> Any:
    """The JSON body. orjson parses the usual batch about twice as fast as the standard
    library; what it refuses but the standard library reads (integers beyond 64 bits, NaN)
    is read by the standard library, so such a record is rejected alone, with its field named,
    instead of failing the whole batch."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(_("The body is not valid JSON: %(error)s") % {"error": exc}) from exc


class UsageRecordsIngest(APIView):
    """``POST /api/v1/usage-records/`` — the gateway reports calls, 1 to 10,000 at a time."""

    permission_classes = [IsGateway]
    parser_classes = []  # the body is read raw: faster than DRF's parsers for 10,000 records

    @extend_schema(
        request=inline_serializer("UsageBatch", {"records": serializers.ListField(child=serializers.DictField())}),
        responses={
            200: inline_serializer(
                "UsageBatchResult",
                {
                    "accepted": serializers.IntegerField(),
                    "duplicates": serializers.IntegerField(),
                    "unpriced": serializers.IntegerField(),
                    "conflicts": serializers.ListField(child=serializers.DictField()),
                    "rejected": serializers.ListField(child=serializers.DictField()),
                },
            )
        },
        examples=[OpenApiExample("One record", value={"records": [_record_example]}, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        django_request = request._request
        length = int(django_request.META.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY_BYTES:
            raise PayloadTooLarge(_("The batch is larger than 10 MB; send fewer records per request."))
        body = django_request.body
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(_("The batch is larger than 10 MB; send fewer records per request."))
        envelope = _parse_batch(body)
        if not isinstance(envelope, dict) or not isinstance(envelope.get("records"), list):
            raise ValidationError({"records": [_('Send an object {"records": [ … ]}.')]})
        records = envelope["records"]
        if not records:
            raise ValidationError({"records": [_("Send at least one record.")]})
        if len(records) > MAX_RECORDS:
            raise PayloadTooLarge(
                _("%(n)d records in one batch; the limit is %(max)d.") % {"n": len(records), "max": MAX_RECORDS}
            )
        result = usage_ingest_batch(records=records, source=request.user)
        return Response(result.as_dict())


# --- Price book -----------------------------------------------------------------------


class PriceSerializer(serializers.ModelSerializer):
    effective_from = serializers.CharField(help_text="RFC 3339 time, or a date meaning 00:00 in BILLING_TIME_ZONE.")
    currency = serializers.ChoiceField(choices=Currency.choices)
    input_per_mtok = serializers.DecimalField(max_digits=18, decimal_places=8, min_value=0)
    cached_input_per_mtok = serializers.DecimalField(
        max_digits=18, decimal_places=8, min_value=0, required=False, allow_null=True
    )
    output_per_mtok = serializers.DecimalField(max_digits=18, decimal_places=8, min_value=0)
    editable = serializers.BooleanField(source="is_editable", read_only=True)

    class Meta:
        model = PriceVersion
        fields = [
            "id",
            "provider",
            "model",
            "effective_from",
            "currency",
            "input_per_mtok",
            "cached_input_per_mtok",
            "output_per_mtok",
            "source",
            "note",
            "editable",
            "created_at",
        ]
        read_only_fields = ["id", "source", "created_at"]
        validators = []

    def validate_effective_from(self, value: str) -> datetime:
        try:  # well-formed but impossible (2026-02-30) raises instead of returning None
            day = parse_date(value) if len(value) == 10 else None
            moment = None if day is not None else parse_datetime(value)
        except ValueError:
            day = moment = None
        if day is not None:
            return datetime.combine(day, time.min, tzinfo=billing_tz())
        if moment is None:
            raise serializers.ValidationError(_("Write an RFC 3339 time or a date (YYYY-MM-DD)."))
        if moment.tzinfo is None:
            raise serializers.ValidationError(_("Give the time with an offset, or a date alone."))
        return moment

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["effective_from"] = instance.effective_from.astimezone(billing_tz()).isoformat()
        return data


class PriceListCreate(APIView):
    permission_classes = [IsFinance]

    @extend_schema(
        parameters=[OpenApiParameter("provider", str), OpenApiParameter("model", str)],
        responses=PriceSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        qs = PriceVersion.objects.all()
        for name in ("provider", "model"):
            if request.query_params.get(name):
                qs = qs.filter(**{name: request.query_params[name]})
        return Response(PriceSerializer(qs[:1000], many=True).data)

    @extend_schema(
        request=PriceSerializer,
        responses={201: PriceSerializer, 200: PriceSerializer},
        examples=[
            OpenApiExample(
                "GPT-4o list price",
                value={
                    "provider": "openai",
                    "model": "gpt-4o",
                    "effective_from": "2026-11-01",
                    "currency": "USD",
                    "input_per_mtok": "2.50",
                    "cached_input_per_mtok": "1.25",
                    "output_per_mtok": "10.00",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = PriceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version, created = services.price_version_set(
            **serializer.validated_data, source=PriceVersion.Source.API, by=request.user
        )
        return Response(
            PriceSerializer(version).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


# --- Exchange rates -------------------------------------------------------------------


class ExchangeRateSerializer(serializers.Serializer):
    currency = serializers.ChoiceField(choices=[("USD", "USD")])
    period = serializers.CharField(help_text="YYYY-MM")
    rate = serializers.DecimalField(max_digits=14, decimal_places=6, min_value=0, help_text="CNY per 1 unit")
    editable = serializers.BooleanField(read_only=True)

    def validate_period(self, value: str):
        try:
            return parse_period(value)
        except ValueError as exc:
            raise serializers.ValidationError(_("Write the period as YYYY-MM.")) from exc

    def to_representation(self, instance: ExchangeRate):
        return {
            "currency": instance.currency,
            "period": format_period(instance.period),
            "rate": f"{instance.rate:f}",
            "editable": instance.locked_at is None,
        }


class ExchangeRateListCreate(APIView):
    permission_classes = [IsFinance]

    @extend_schema(responses=ExchangeRateSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(ExchangeRateSerializer(ExchangeRate.objects.all(), many=True).data)

    @extend_schema(
        request=ExchangeRateSerializer,
        responses={201: ExchangeRateSerializer, 200: ExchangeRateSerializer},
        examples=[
            OpenApiExample(
                "USD, Nov 2026", value={"currency": "USD", "period": "2026-11", "rate": "7.1234"}, request_only=True
            )
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = ExchangeRateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rate, created = services.exchange_rate_set(**serializer.validated_data, by=request.user)
        return Response(
            ExchangeRateSerializer(rate).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


# --- Usage summary --------------------------------------------------------------------


class UsageSummaryView(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(
        parameters=[
            OpenApiParameter("customer", str, description="Customer code (portal users: their own, the default)."),
            OpenApiParameter("period", str, description="YYYY-MM; default: the current period."),
            OpenApiParameter("group_by", str, enum=list(GROUPINGS), default="model"),
            OpenApiParameter("project", str, description="A project code: that project's usage only."),
            OpenApiParameter("format", str, enum=["json", "csv"], default="json"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response | HttpResponse:
        params = request.query_params
        code = params.get("customer")
        if not code:
            membership = portal_membership(request.user)
            if membership is None:
                raise ValidationError({"customer": [_("Name the customer by its code.")]})
            code = membership.customer.code
        customer = customer_for(request.user, code, roles=READ_USAGE_ROLES)
        try:
            period = parse_period(params["period"]) if params.get("period") else current_period()
        except ValueError as exc:
            raise ValidationError({"period": [_("Write the period as YYYY-MM.")]}) from exc
        group_by = params.get("group_by", "model")
        if group_by not in GROUPINGS:
            raise ValidationError({"group_by": [_("One of: %(choices)s.") % {"choices": ", ".join(GROUPINGS)}]})
        project = None
        if params.get("project"):
            project = customer.projects.filter(code=params["project"]).first()
            if project is None:
                raise ValidationError({"project": [_("No project with this code.")]})
        summary = usage_summary(customer=customer, period=period, group_by=group_by, project=project)
        if params.get("format") == "csv":
            response = HttpResponse(usage_summary_csv(summary), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{summary.export_filename}.csv"'
            return response
        return Response(
            {
                "customer": customer.code,
                "period": summary.period_label,
                "currency": "CNY",
                "group_by": group_by,
                "discount_percent": f"{summary.discount_percent:.2f}",
                "missing_rates": summary.missing_rates,
                "rows": usage_summary_rows(summary),
            }
        )
