"""API: the price book and the monthly exchange rates."""

from __future__ import annotations

from datetime import datetime, time

from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api.filters import PeriodField, PriceFilter
from billing.models import Currency, ExchangeRate, PriceVersion
from billing.periods import billing_tz, format_period
from billing.pricing import services
from common.api import filtered
from customers.access import IsFinanceOrPresalesReading

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
    permission_classes = [IsFinanceOrPresalesReading]

    @extend_schema(
        parameters=[OpenApiParameter("provider", str), OpenApiParameter("model", str)],
        responses=PriceSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        qs = filtered(PriceFilter, request, PriceVersion.objects.all())
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
    period = PeriodField()
    rate = serializers.DecimalField(max_digits=14, decimal_places=6, min_value=0, help_text="CNY per 1 unit")
    editable = serializers.BooleanField(read_only=True)

    def to_representation(self, instance: ExchangeRate):
        return {
            "currency": instance.currency,
            "period": format_period(instance.period),
            "rate": f"{instance.rate:f}",
            "editable": instance.locked_at is None,
        }


class ExchangeRateListCreate(APIView):
    permission_classes = [IsFinanceOrPresalesReading]

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
