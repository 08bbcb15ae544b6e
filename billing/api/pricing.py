"""API: the price book and the monthly exchange rates."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

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
from customers.permissions import IsFinanceOrPresalesReading

# --- Price book -----------------------------------------------------------------------


_SHORTHAND = {"max_digits": 30, "decimal_places": 20, "min_value": 0, "required": False, "allow_null": True}
PRICE_MAP_HELP = (
    'genai-prices price key → decimal string, or {"base": "…", "tiers": [{"start": 200000, "price": "…"}]} '
    "(CONTRACT.md, Price dimensions)."
)


def _shorthand_text(value: Decimal) -> str:
    """The shorthand as it always read (8 decimals), with more only when the price has them."""
    exact = value.normalize()
    return f"{exact.quantize(EIGHT_PLACES):f}" if exact.as_tuple().exponent >= -8 else f"{exact:f}"


EIGHT_PLACES = Decimal("0.00000001")


class PriceSerializer(serializers.ModelSerializer):
    effective_from = serializers.CharField(help_text="RFC 3339 time, or a date meaning 00:00 in BILLING_TIME_ZONE.")
    currency = serializers.ChoiceField(choices=Currency.choices)
    input_per_mtok = serializers.DecimalField(**_SHORTHAND, help_text="Shorthand of prices.input_mtok.")
    cached_input_per_mtok = serializers.DecimalField(**_SHORTHAND, help_text="Shorthand of prices.cache_read_mtok.")
    output_per_mtok = serializers.DecimalField(**_SHORTHAND, help_text="Shorthand of prices.output_mtok.")
    prices = serializers.JSONField(required=False, help_text=PRICE_MAP_HELP)
    variants = serializers.JSONField(
        required=False, help_text='[{"when": {"processing": "batch"} | {"service_tier": "flex"}, "prices": {…}}]'
    )
    windows = serializers.JSONField(
        required=False,
        help_text='[{"start": "HH:MM", "end": "HH:MM", "weekdays": [1…7], "prices": {…}}] in BILLING_TIME_ZONE',
    )
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
            "prices",
            "variants",
            "windows",
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

    def validate(self, attrs):
        if attrs.get("prices") is None and attrs.get("input_per_mtok") is None and attrs.get("output_per_mtok") is None:
            raise serializers.ValidationError({"prices": [_("Give prices, or input_per_mtok and output_per_mtok.")]})
        return attrs

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["effective_from"] = instance.effective_from.astimezone(billing_tz()).isoformat()
        for field in ("input_per_mtok", "cached_input_per_mtok", "output_per_mtok"):
            value = getattr(instance, field)
            data[field] = None if value is None else _shorthand_text(value)
        data["prices"] = instance.price_map()
        data["variants"] = instance.variants or []
        data["windows"] = instance.windows or []
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
            ),
            OpenApiExample(
                "Claude Sonnet 4.5: cache writes, long context, Batch",
                value={
                    "provider": "anthropic",
                    "model": "claude-sonnet-4-5",
                    "effective_from": "2026-11-01",
                    "currency": "USD",
                    "prices": {
                        "input_mtok": {"base": "3", "tiers": [{"start": 200000, "price": "6"}]},
                        "cache_read_mtok": {"base": "0.3", "tiers": [{"start": 200000, "price": "0.6"}]},
                        "cache_write_mtok": {"base": "3.75", "tiers": [{"start": 200000, "price": "7.5"}]},
                        "cache_write_1h_mtok": {"base": "6", "tiers": [{"start": 200000, "price": "12"}]},
                        "output_mtok": {"base": "15", "tiers": [{"start": 200000, "price": "22.5"}]},
                        "web_searches_kcount": "10",
                    },
                    "variants": [
                        {"when": {"processing": "batch"}, "prices": {"input_mtok": "1.5", "output_mtok": "7.5"}}
                    ],
                },
                request_only=True,
            ),
            OpenApiExample(
                "DeepSeek: off-peak by default, standard hours as a window",
                value={
                    "provider": "deepseek",
                    "model": "deepseek-chat",
                    "effective_from": "2026-11-01",
                    "currency": "USD",
                    "prices": {"input_mtok": "0.135", "cache_read_mtok": "0.035", "output_mtok": "0.55"},
                    "windows": [
                        {
                            "start": "08:30",
                            "end": "00:30",
                            "prices": {"input_mtok": "0.27", "cache_read_mtok": "0.07", "output_mtok": "1.1"},
                        }
                    ],
                },
                request_only=True,
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = PriceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Shorthand fields left out are not passed; given beside prices, they must agree with it.
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
