"""API: the records behind a figure, as a streamed CSV file (a bill line's, a usage-summary
row's). Same readers as the figure: a bill's lines need the bill's readers (finance; portal
admin and finance of that customer), a summary row the usage summary's (any portal role of
that customer); another customer's → 404."""

from __future__ import annotations

from django.http import Http404, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from billing.api.filters import OneOf, PeriodField
from billing.api.usage import UsageRecordsIngest, usage_scope
from billing.bills.selectors import bill_for
from billing.metering.record_exports import (
    RECORD_CSV_COLUMNS,
    bill_line_filename,
    bill_line_for,
    bill_line_records,
    records_csv_response,
    summary_row_filename,
    summary_row_records,
)
from billing.metering.selectors import GROUPINGS
from billing.periods import current_period
from common.api import query
from customers.permissions import IsFinanceOrPortal, IsGateway

CSV_DESCRIPTION = (
    "text/csv, streamed, one row per usage record in time order: "
    + ", ".join(RECORD_CSV_COLUMNS)
    + ". `occurred_at` is RFC 3339 in BILLING_TIME_ZONE; `cost` is the record's cost in `currency` "
    "(its price version's), unrounded as stored, blank when unpriced. Money rule 5 (docs/money-rules.md) over the rows "
    "(Σ cost × (1 − discount/100) × rate, rounded once) gives the figure."
)
CSV_EXAMPLE = (
    "request_id,occurred_at,key_id,project,provider,model,variant,processing,service_tier,input_tokens,…,cost\n"
    "req_01JD8Z5T3K9,2026-11-28T09:30:00+08:00,ak_3f9c2a7d1e0b4c5a6f70,chatbot,openai,gpt-4o,standard,"
    "standard,default,1200,…,0.0046250000000000\n"
)


CSV_RESPONSES = {(200, "text/csv"): OpenApiTypes.STR}


def _described(summary: str) -> str:
    return summary + "\n\n" + CSV_DESCRIPTION + "\n\n```\n" + CSV_EXAMPLE + "```"


BILL_LINE_DESCRIPTION = _described(
    "The records a bill line carries: the bill's customer, the line's project, provider, model and "
    "variant, usage of the line's period billed on the bill's period. `position` is the line's "
    "`position` in the bill. A line of another kind (minimum commitment, service fee, credit) carries "
    "none: the header alone."
)
SUMMARY_ROW_DESCRIPTION = _described(
    "The records behind one row of `GET /api/v1/usage-summary/` with the same `customer`, `period`, "
    "`group_by` and `project`: `key` is the row's key (a model — with `provider` where two providers "
    "sell it —, a project code, a key id, a day YYYY-MM-DD); without `key`, every row's. As the "
    "summary, the usage the period's bill carries (late usage billed later as an adjustment is on "
    "that bill's line)."
)


class BillLineRecords(APIView):
    """``GET /api/v1/bills/{number}/lines/{position}/records/``."""

    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses=CSV_RESPONSES, description=BILL_LINE_DESCRIPTION)
    def get(self, request: Request, number: str, position: int) -> StreamingHttpResponse:
        bill = bill_for(request.user, number)  # 404 another customer's, 403 a developer
        line = bill_line_for(bill, position)
        if line is None:
            raise Http404
        records = bill_line_records(bill=bill, line=line)
        return records_csv_response(customer=bill.customer, records=records, filename=bill_line_filename(bill, line))


class UsageRecordsQuery(serializers.Serializer):
    customer = serializers.CharField(required=False, allow_blank=True, default="")
    period = PeriodField(required=False, allow_blank=True)
    group_by = OneOf(choices=list(GROUPINGS), default="model")
    key = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    provider = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    project = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


class UsageRecords(UsageRecordsIngest):
    """``/api/v1/usage-records/``: the gateway POSTs records (UsageRecordsIngest); finance and
    portal users GET the records behind one usage-summary row as CSV."""

    def get_permissions(self):
        if self.request.method == "GET":
            return [IsFinanceOrPortal()]
        return [IsGateway()]

    @extend_schema(
        parameters=[
            OpenApiParameter("customer", str, description="Customer code (portal users: their own, the default)."),
            OpenApiParameter("period", str, description="YYYY-MM; default: the current period."),
            OpenApiParameter("group_by", str, enum=list(GROUPINGS), default="model"),
            OpenApiParameter("key", str, description="The summary row's key; blank: the whole period."),
            OpenApiParameter("provider", str, description="With group_by=model: the row's provider."),
            OpenApiParameter("project", str, description="A project code: that project's usage only."),
        ],
        responses=CSV_RESPONSES,
        description=SUMMARY_ROW_DESCRIPTION,
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        params = query(UsageRecordsQuery, request)
        customer, project = usage_scope(request, params)
        period = params.get("period") or current_period()
        records = summary_row_records(
            customer=customer,
            period=period,
            group_by=params["group_by"],
            key=params["key"],
            provider=params["provider"],
            project=project,
        )
        filename = summary_row_filename(customer, period, params["group_by"], params["key"])
        return records_csv_response(customer=customer, records=records, filename=filename)
