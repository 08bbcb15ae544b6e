"""API: usage ingestion (the gateway) and the usage summary."""

from __future__ import annotations

from typing import Any

import orjson
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api.filters import UsageSummaryQuery
from billing.bills.summary import usage_summary, usage_summary_csv, usage_summary_json
from billing.metering.ingest import MAX_BODY_BYTES, MAX_DEPTH, MAX_RECORDS, collector_paused, usage_ingest_batch
from billing.metering.selectors import GROUPINGS
from billing.periods import current_period
from common.api import CSVOrJSON, PayloadTooLarge, query
from common.exports import CSV_CONTENT_TYPE
from common.files import file_response
from common.uploads import TooDeep, UploadError, nested_deeper_than, read_json
from customers.access import READ_USAGE_ROLES, customer_for, portal_membership
from customers.models import Customer, Project
from customers.permissions import IsFinanceOrPortal, IsGateway

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
# The price dimensions (CONTRACT.md "Price dimensions"): added counts and context, or the
# provider's response read with genai-prices' extractor.
_dimensions_example = {
    **_record_example,
    "request_id": "req_01JD8Z5T3KA",
    "cache_write_tokens": 300,
    "cache_write_1h_tokens": 100,
    "output_reasoning_tokens": 120,
    "web_searches": 2,
    "processing": "batch",
}
_response_example = {
    "request_id": "req_01JD8Z5T3KB",
    "key_id": "ak_3f9c2a7d1e0b4c5a6f70",
    "provider": "openai",
    "api_flavor": "chat",
    "occurred_at": "2026-11-28T09:30:00+08:00",
    "response": {
        "model": "gpt-5",
        "service_tier": "flex",
        "usage": {"prompt_tokens": 1000, "completion_tokens": 500, "prompt_tokens_details": {"cached_tokens": 400}},
    },
}


def _parse_batch(body: bytes) -> Any:
    """The JSON body. orjson parses the usual batch about twice as fast as the standard
    library; what it refuses but the standard library reads (integers beyond 64 bits, NaN,
    a raw control character such as 0x00 inside a string) is read by the upload reader
    (common.uploads.read_json: numbers bounded, so an oversized one is rejected with its
    record alone), instead of failing the whole batch. A body nested deeper than MAX_DEPTH
    is refused whole."""
    try:
        envelope = orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            envelope = read_json(body, max_depth=MAX_DEPTH, decimals=False, strict=False)
        except TooDeep:
            raise _too_deep() from None
        except UploadError as exc:
            raise ParseError(_("The body is not valid JSON: %(error)s") % {"error": exc}) from exc
    if isinstance(envelope, (dict, list)) and nested_deeper_than(envelope, MAX_DEPTH):
        raise _too_deep()
    return envelope


def _too_deep() -> ValidationError:
    return ValidationError(
        {"records": [_("The body is nested more than %(n)d levels deep; records are flat objects.") % {"n": MAX_DEPTH}]}
    )


class UsageRecordsIngest(APIView):
    """``POST /api/v1/usage-records/`` — the gateway reports calls, 1 to 10,000 at a time."""

    permission_classes = [IsGateway]
    parser_classes = []  # the body is read raw: faster than DRF's parsers for 10,000 records

    @extend_schema(
        # Given by content type: the view reads the body raw (no parsers), so the schema
        # generator cannot infer it.
        request={
            "application/json": inline_serializer(
                "UsageBatch", {"records": serializers.ListField(child=serializers.DictField())}
            )
        },
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
        examples=[
            OpenApiExample("One record", value={"records": [_record_example]}, request_only=True),
            OpenApiExample(
                "Price dimensions and a provider response",
                value={"records": [_dimensions_example, _response_example]},
                request_only=True,
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        django_request = request._request
        length = int(django_request.META.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY_BYTES:
            raise PayloadTooLarge(_("The batch is larger than 10 MB; send fewer records per request."))
        body = django_request.body
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(_("The batch is larger than 10 MB; send fewer records per request."))
        with collector_paused():
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


# --- Usage summary --------------------------------------------------------------------


def usage_scope(request: Request, params: dict) -> tuple[Customer, Project | None]:
    """The customer (``customer``: its code; a portal user's own by default) and the project
    (``project``: a code, or None) a usage read names, if the user may read its usage."""
    code = params["customer"]
    if not code:
        membership = portal_membership(request.user)
        if membership is None:
            raise ValidationError({"customer": [_("Name the customer by its code.")]})
        code = membership.customer.code
    customer = customer_for(request.user, code, roles=READ_USAGE_ROLES)
    project = None
    if params["project"]:
        project = customer.projects.filter(code=params["project"]).first()
        if project is None:
            raise ValidationError({"project": [_("No project with this code.")]})
    return customer, project


class UsageSummaryView(CSVOrJSON, APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(
        parameters=[
            OpenApiParameter("customer", str, description="Customer code (portal users: their own, the default)."),
            OpenApiParameter("period", str, description="YYYY-MM; default: the current period."),
            OpenApiParameter("group_by", str, enum=list(GROUPINGS), default="model"),
            OpenApiParameter("project", str, description="A project code: that project's usage only."),
            OpenApiParameter("format", str, enum=["json", "csv"], default="json"),
        ],
        description=(
            "Usage of a period grouped by `group_by`. Each row's `cost` is money rule 5 (docs/money-rules.md) over that row "
            "alone (rounded once), so rows of a grouping other than the bill's need not add up to "
            "`total`: the period's one figure, computed as its bill computes it (one line per project "
            "× model × variant, each rounded, summed) and the same for every grouping; with "
            "`project`, that project's lines. Budgets, forecasts, the allowance's `month_to_date` "
            "and the portal read the same figure (an `api_key` budget: the key's own row). Each row "
            "carries `variants`: the same counts and cost per variant (`standard`, `batch`, `flex`, "
            "…), each priced on its own. A closed period (`closed`: its bill issued) counts the "
            "usage its bill carried; `late` is its usage that arrived after the close "
            "(`{requests, cost, bill, parts}`, `bill` the number of the later bill once issued, "
            "`parts` one per later bill). `adjustments`: late usage of earlier periods that this "
            "period's bill carries (not in `total`). `format=csv`: the rows, one column per unit "
            "that appears, and a last `total` row (also for `Accept: text/csv` without `format`)."
        ),
        responses={
            (200, "application/json"): inline_serializer(
                "UsageSummary",
                {
                    "customer": serializers.CharField(),
                    "period": serializers.CharField(),
                    "currency": serializers.CharField(),
                    "group_by": serializers.CharField(),
                    "discount_percent": serializers.CharField(),
                    "missing_rates": serializers.ListField(child=serializers.CharField()),
                    "closed": serializers.BooleanField(),
                    "rows": serializers.ListField(child=serializers.DictField()),
                    "total": serializers.CharField(help_text="CNY, two decimals: the period's one figure."),
                    "late": serializers.DictField(),
                    "adjustments": serializers.ListField(child=serializers.DictField()),
                },
            ),
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    def get(self, request: Request) -> Response:
        params = query(UsageSummaryQuery, request)
        customer, project = usage_scope(request, params)
        period = params.get("period") or current_period()
        group_by = params["group_by"]
        summary = usage_summary(customer=customer, period=period, group_by=group_by, project=project)
        if self.wants_csv(request):
            return file_response(
                usage_summary_csv(summary), filename=f"{summary.export_filename}.csv", content_type=CSV_CONTENT_TYPE
            )
        return Response(usage_summary_json(summary))
