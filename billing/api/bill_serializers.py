"""API serializers of bills and their lines (the shapes of CONTRACT.md "Bills", with the
price-dimension additions: a line's ``variant``, ``units`` and ``unit_prices``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.bills.unit_prices import line_unit_prices, versions_of
from billing.models import Bill, BillLine
from billing.periods import format_period


def money(value) -> str:
    return f"{getattr(value, 'amount', value):.2f}"


class UnitPriceWindowSerializer(serializers.Serializer):
    start = serializers.CharField(help_text="HH:MM in BILLING_TIME_ZONE, inclusive.")
    end = serializers.CharField(help_text="HH:MM, exclusive; may be before start (the window crosses midnight).")
    weekdays = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="Monday = 1; absent: every day."
    )


class UnitPriceSerializer(serializers.Serializer):
    """The OpenAPI shape of one item of a bill line's ``unit_prices`` (billing.bills.unit_prices)."""

    price_version = serializers.IntegerField()
    effective_from = serializers.DateTimeField()
    currency = serializers.CharField(help_text="The price currency.")
    exchange_rate = serializers.CharField(
        allow_null=True,
        help_text="CNY per unit of the price currency, as the line used it (money rule 4 (docs/money-rules.md)).",
    )
    window = UnitPriceWindowSerializer(
        allow_null=True, help_text="The time-of-day window these prices held in; null: outside every window."
    )
    prices = serializers.DictField(
        child=serializers.JSONField(),
        help_text=(
            "The keys that priced the line's counts, in the line's variant: a key "
            "(genai-prices' unit registry: input_mtok, cache_write_5m_mtok, web_searches_kcount, …) → "
            'a decimal string, or {"base": "…", "tiers": [{"start": n, "price": "…"}]} '
            "(a request above start input tokens pays the tier's price for all its units)."
        ),
    )


class BillLineSerializer(serializers.ModelSerializer):
    period = serializers.SerializerMethodField()
    project = serializers.SerializerMethodField()
    amount = serializers.SerializerMethodField()
    units = serializers.SerializerMethodField()
    unit_prices = serializers.SerializerMethodField()

    class Meta:
        model = BillLine
        fields = [
            "position",  # the line's address: …/lines/{position}/records/ (its usage records, CSV)
            "kind",
            "period",
            "project",
            "provider",
            "model",
            "variant",
            "requests",
            "input_tokens",
            "cached_input_tokens",
            "output_tokens",
            "units",
            "discount_percent",
            "exchange_rates",
            "price_versions",
            "unit_prices",
            "amount",
            "note",
        ]
        extra_kwargs = {
            "variant": {
                "help_text": "standard, or the non-default price context joined by '+' (batch, flex, priority, batch+flex)."
            }
        }

    def get_period(self, obj) -> str:
        return format_period(obj.period)

    def get_project(self, obj) -> str | None:
        return obj.project.code if obj.project_id else None

    def get_amount(self, obj) -> str:
        return money(obj.amount)

    @extend_schema_field(
        serializers.DictField(
            child=serializers.IntegerField(),
            help_text="The non-zero sums of the added counts (cache_write_5m_tokens, web_searches, …).",
        )
    )
    def get_units(self, obj) -> dict[str, int]:
        return obj.units or {}

    @extend_schema_field(UnitPriceSerializer(many=True))
    def get_unit_prices(self, obj) -> list[dict]:
        # The versions are read once per bill (or list of bills) and shared by its lines.
        versions = self.context.setdefault("price_versions", {})
        if not set(obj.price_versions or []) <= versions.keys():
            versions.update(versions_of(obj.bill.lines.all()))
        return line_unit_prices(obj, versions)


class BillSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.code")
    project = serializers.SerializerMethodField()
    period = serializers.SerializerMethodField()
    lines = BillLineSerializer(many=True)
    exchange_rate = serializers.SerializerMethodField()
    vat_rate = serializers.SerializerMethodField()
    subtotal = serializers.SerializerMethodField()
    vat = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()
    amount_paid = serializers.SerializerMethodField()
    balance = serializers.SerializerMethodField()
    replaces = serializers.SerializerMethodField()

    class Meta:
        model = Bill
        fields = [
            "id",
            "number",
            "customer",
            "project",
            "period",
            "status",
            "hold_reason",
            "currency",
            "exchange_rate",
            "lines",
            "subtotal",
            "vat_rate",
            "vat",
            "total",
            "issued_on",
            "due_on",
            "amount_paid",
            "balance",
            "confirmation",
            "confirmation_note",
            "replaces",
            "pdf_rendered_at",
            "emailed_at",
        ]

    def get_project(self, obj) -> str | None:
        return obj.project.code if obj.project_id else None

    def get_period(self, obj) -> str:
        return format_period(obj.period)

    def get_exchange_rate(self, obj) -> str | None:
        return None if obj.exchange_rate is None else f"{obj.exchange_rate:f}"

    def get_vat_rate(self, obj) -> str:
        return f"{obj.vat_rate:f}"

    def get_subtotal(self, obj) -> str:
        return money(obj.subtotal)

    def get_vat(self, obj) -> str:
        return money(obj.vat)

    def get_total(self, obj) -> str:
        return money(obj.total)

    def get_amount_paid(self, obj) -> str:
        return money(obj.amount_paid)

    def get_balance(self, obj) -> str:
        return money(obj.balance)

    def get_replaces(self, obj) -> str | None:
        return obj.replaces.number if obj.replaces_id else None
