"""HTTP API of presales (``/api/v1/presales/…``, group presales or finance).

Input serializers check every field (CONTRACT.md "Presales", the issue's "Bad input");
the services price and store. A refusal is a 400 whose ``errors`` name the field by its
path in the request (``workloads[1].cached_share``, ``workloads[0].models[2].model``), and
nothing is written.
"""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import WholeNumberField
from common.files import pdf_response
from common.integers import int_param
from common.vat import DEFAULT_VAT_RATE
from customers.access import is_finance, is_presales
from customers.api import ContractSerializer, CustomerSerializer
from customers.fields import PrintableValidator, printable
from customers.models import InvoiceType
from presales import estimates, proposals
from presales.documents import proposal_pdf_bytes
from presales.models import NOTES_MAX, SCENARIO_MAX
from presales.rules import EstimateInput, WorkloadInput
from presales.selectors import estimate_answer, estimate_get, proposal_answer, proposal_get, proposal_version_get

MAX_WORKLOADS = 20
MAX_MODELS = 10
MAX_COUNT = 10**12  # requests a day, tokens a request: far beyond any real workload


class IsPresalesOrFinance(BasePermission):
    def has_permission(self, request, view) -> bool:
        return is_presales(request.user) or is_finance(request.user)


def flat_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as ``{"workloads[1].models[0].model": [...]}``."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(key, int):  # a ListField's errors are keyed by the item's index
                path = f"{prefix}[{key}]"
            elif key == "non_field_errors":
                path = prefix or key
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            out.update(flat_errors(value, path))
        return out
    if isinstance(detail, list) and detail and all(isinstance(v, str) for v in detail):
        return {prefix or "non_field_errors": [str(v) for v in detail]}
    if isinstance(detail, list):
        out = {}
        for i, value in enumerate(detail):
            if value:
                out.update(flat_errors(value, f"{prefix}[{i}]"))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def validated(serializer: serializers.Serializer) -> dict:
    if not serializer.is_valid():
        raise ValidationError(flat_errors(serializer.errors))
    return serializer.validated_data


class CandidateSerializer(serializers.Serializer):
    provider = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    model = serializers.CharField(max_length=100)


class WorkloadSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, validators=[PrintableValidator()])
    daily_requests = WholeNumberField(min_value=0, max_value=MAX_COUNT, required=False, allow_null=True)
    average_qps = serializers.DecimalField(
        max_digits=14, decimal_places=4, min_value=Decimal(0), required=False, allow_null=True
    )
    input_tokens = WholeNumberField(min_value=0, max_value=MAX_COUNT)
    output_tokens = WholeNumberField(min_value=0, max_value=MAX_COUNT)
    cached_share = serializers.DecimalField(
        max_digits=7, decimal_places=6, min_value=Decimal(0), max_value=Decimal(1), default=Decimal(0)
    )
    cache_write_share = serializers.DecimalField(
        max_digits=7,
        decimal_places=6,
        min_value=Decimal(0),
        max_value=Decimal(1),
        default=Decimal(0),
        help_text="Share of input tokens written to the prompt cache (cache-write price).",
    )
    batch_share = serializers.DecimalField(
        max_digits=7,
        decimal_places=6,
        min_value=Decimal(0),
        max_value=Decimal(1),
        default=Decimal(0),
        help_text="Share of requests sent through the provider's Batch API (its Batch prices).",
    )
    models = serializers.ListField(child=CandidateSerializer(), min_length=1, max_length=MAX_MODELS)

    def validate(self, attrs):
        if attrs["cached_share"] + attrs["cache_write_share"] > 1:
            raise ValidationError(
                {
                    "cache_write_share": [
                        _("cached_share + cache_write_share cannot exceed 1 (both are parts of the input).")
                    ]
                }
            )
        has_daily = attrs.get("daily_requests") is not None
        has_qps = attrs.get("average_qps") is not None
        if has_daily == has_qps:
            raise ValidationError({"daily_requests": [_("Give the daily requests or the average QPS (one of them).")]})
        return attrs


class EstimateRequestSerializer(serializers.Serializer):
    prospect = serializers.CharField(min_length=1, max_length=200, validators=[PrintableValidator()])
    scenario = serializers.CharField(required=False, allow_blank=True, default="", max_length=SCENARIO_MAX)
    workloads = serializers.ListField(child=WorkloadSerializer(), min_length=1, max_length=MAX_WORKLOADS)
    days_per_month = WholeNumberField(min_value=28, max_value=31, default=30)
    monthly_growth_percent = serializers.DecimalField(
        max_digits=6, decimal_places=3, min_value=Decimal(0), max_value=Decimal(100), default=Decimal(0)
    )
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal(0), max_value=Decimal(100), default=Decimal(0)
    )
    fixed_exchange_rate = serializers.DecimalField(
        max_digits=12, decimal_places=6, min_value=Decimal("0.000001"), required=False, allow_null=True
    )
    vat_rate = serializers.DecimalField(
        max_digits=5, decimal_places=4, min_value=Decimal(0), max_value=Decimal(1), default=DEFAULT_VAT_RATE
    )
    as_of = serializers.DateTimeField(required=False, allow_null=True)

    def validate_workloads(self, value):
        seen = set()
        for i, workload in enumerate(value):
            name = workload["name"] = printable(workload["name"])
            if name in seen:
                raise ValidationError({i: {"name": [_("Two workloads are named %(name)s.") % {"name": name}]}})
            seen.add(name)
        return value

    def to_input(self) -> EstimateInput:
        data = self.validated_data
        return EstimateInput(
            prospect=printable(data["prospect"]),
            scenario=data["scenario"],
            workloads=[
                WorkloadInput(
                    name=w["name"],
                    daily_requests=w.get("daily_requests"),
                    average_qps=w.get("average_qps"),
                    input_tokens=w["input_tokens"],
                    output_tokens=w["output_tokens"],
                    cached_share=w["cached_share"],
                    cache_write_share=w["cache_write_share"],
                    batch_share=w["batch_share"],
                    models=[(m["provider"].strip(), m["model"].strip()) for m in w["models"]],
                )
                for w in data["workloads"]
            ],
            days_per_month=data["days_per_month"],
            monthly_growth_percent=data["monthly_growth_percent"],
            discount_percent=data["discount_percent"],
            fixed_exchange_rate=data.get("fixed_exchange_rate"),
            vat_rate=data["vat_rate"],
            as_of=data.get("as_of") or timezone.now(),
        )


ESTIMATE_EXAMPLE = {
    "prospect": "杭州云栖电商有限公司",
    "scenario": "商品描述生成",
    "workloads": [
        {
            "name": "商品描述",
            "daily_requests": 50000,
            "input_tokens": 800,
            "output_tokens": 300,
            "cached_share": "0.30",
            "models": [{"provider": "openai", "model": "gpt-4o"}, {"provider": "openai", "model": "gpt-4o-mini"}],
        }
    ],
    "days_per_month": 30,
    "monthly_growth_percent": "5",
    "discount_percent": "8",
    "vat_rate": str(DEFAULT_VAT_RATE),
}

EstimateAnswer = inline_serializer(
    "Estimate",
    {
        "id": serializers.IntegerField(),
        "prospect": serializers.CharField(),
        "as_of": serializers.DateTimeField(),
        "currency": serializers.CharField(),
        "exchange_rates": serializers.DictField(child=serializers.CharField()),
        "options": serializers.ListField(child=serializers.DictField()),
        "cheapest": serializers.DictField(child=serializers.CharField()),
        "levers": serializers.DictField(),
    },
)


class EstimateCreate(APIView):
    permission_classes = [IsPresalesOrFinance]

    @extend_schema(
        request=EstimateRequestSerializer,
        responses={201: EstimateAnswer},
        examples=[OpenApiExample("One workload, two models", value=ESTIMATE_EXAMPLE, request_only=True)],
        summary="Price a prospect's workloads on the price book in force at as_of",
    )
    def post(self, request: Request) -> Response:
        serializer = EstimateRequestSerializer(data=request.data)
        validated(serializer)
        estimate = estimates.estimate_create(request=serializer.to_input(), by=request.user)
        return Response(estimate_answer(estimate_get(estimate_id=estimate.pk)), status=status.HTTP_201_CREATED)


class EstimateDetail(APIView):
    permission_classes = [IsPresalesOrFinance]

    @extend_schema(responses=EstimateAnswer, summary="An estimate as it was priced")
    def get(self, request: Request, estimate_id: int) -> Response:
        return Response(estimate_answer(estimate_get(estimate_id=estimate_id)))


class ChoiceSerializer(serializers.Serializer):
    workload = serializers.CharField(max_length=200)
    provider = serializers.CharField(max_length=40)
    model = serializers.CharField(max_length=100)


class ProposalRequestSerializer(serializers.Serializer):
    valid_until = serializers.DateField()
    payment_terms_days = WholeNumberField(min_value=0, max_value=365, default=30)
    invoice_type = serializers.ChoiceField(choices=InvoiceType.choices, default=InvoiceType.SPECIAL)
    chosen = serializers.ListField(child=ChoiceSerializer(), min_length=1, max_length=MAX_WORKLOADS)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTES_MAX)


ProposalAnswer = inline_serializer(
    "Proposal",
    {
        "number": serializers.CharField(),
        "version": serializers.IntegerField(),
        "versions": serializers.ListField(child=serializers.IntegerField()),
        "valid_until": serializers.DateField(),
        "payment_terms_days": serializers.IntegerField(),
        "invoice_type": serializers.CharField(),
        "chosen": serializers.ListField(child=serializers.DictField()),
        "monthly_total": serializers.CharField(),
        "first_year_total": serializers.CharField(),
        "first_year_total_upper": serializers.CharField(),
    },
)


class ProposalCreate(APIView):
    permission_classes = [IsPresalesOrFinance]

    @extend_schema(
        request=ProposalRequestSerializer,
        responses={201: ProposalAnswer},
        examples=[
            OpenApiExample(
                "Choose the mini model",
                value={
                    "valid_until": "2026-12-31",
                    "payment_terms_days": 30,
                    "invoice_type": "special",
                    "chosen": [{"workload": "商品描述", "provider": "openai", "model": "gpt-4o-mini"}],
                    "notes": "含 5% 月增长",
                },
                request_only=True,
            )
        ],
        summary="Make the estimate's proposal (PROP-YYYY-NNNN) or its next version",
    )
    def post(self, request: Request, estimate_id: int) -> Response:
        estimate = estimate_get(estimate_id=estimate_id)
        data = validated(ProposalRequestSerializer(data=request.data))
        version = proposals.proposal_version_create(
            estimate=estimate,
            valid_until=data["valid_until"],
            payment_terms_days=data["payment_terms_days"],
            invoice_type=data["invoice_type"],
            chosen=[proposals.Choice(**c) for c in data["chosen"]],
            notes=data["notes"],
            by=request.user,
        )
        return Response(proposal_answer(version), status=status.HTTP_201_CREATED)


VERSION_PARAMETER = OpenApiParameter(
    "version", OpenApiTypes.INT, description="A version number; the latest when left out."
)


def _version_param(request: Request) -> int | None:
    return int_param(request.query_params.get("version"), name="version")


class ProposalDetail(APIView):
    permission_classes = [IsPresalesOrFinance]

    @extend_schema(parameters=[VERSION_PARAMETER], responses=ProposalAnswer, summary="A proposal version")
    def get(self, request: Request, number: str) -> Response:
        proposal = proposal_get(number=number)
        return Response(proposal_answer(proposal_version_get(proposal=proposal, version=_version_param(request))))


class ProposalPdf(APIView):
    permission_classes = [IsPresalesOrFinance]

    @extend_schema(
        parameters=[VERSION_PARAMETER],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        summary="The proposal's PDF (报价方案)",
    )
    def get(self, request: Request, number: str) -> HttpResponse:
        proposal = proposal_get(number=number)
        version = proposal_version_get(proposal=proposal, version=_version_param(request))
        return pdf_response(proposal_pdf_bytes(version), filename=f"{proposal.number}-v{version.version}.pdf")


class AcceptSerializer(serializers.Serializer):
    customer_code = serializers.CharField(max_length=32)
    tax_id = serializers.CharField(max_length=20, allow_blank=True)
    contract_number = serializers.CharField(max_length=64)
    starts_on = serializers.DateField()


class ProposalAccept(APIView):
    permission_classes = [IsPresalesOrFinance]

    @extend_schema(
        request=AcceptSerializer,
        responses={
            201: inline_serializer("Accepted", {"customer": CustomerSerializer(), "contract": ContractSerializer()})
        },
        examples=[
            OpenApiExample(
                "Accept",
                value={
                    "customer_code": "YUNQI",
                    "tax_id": "91330106MA2KD7XQ5L",
                    "contract_number": "HT-YUNQI-2026-01",
                    "starts_on": "2026-12-01",
                },
                request_only=True,
            )
        ],
        summary="Accept: the customer and a draft contract from the proposal's terms",
    )
    def post(self, request: Request, number: str) -> Response:
        proposal = proposal_get(number=number)
        data = validated(AcceptSerializer(data=request.data))
        customer, contract = proposals.proposal_accept(proposal=proposal, by=request.user, **data)
        return Response(
            {"customer": CustomerSerializer(customer).data, "contract": ContractSerializer(contract).data},
            status=status.HTTP_201_CREATED,
        )
