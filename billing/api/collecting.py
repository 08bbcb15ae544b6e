"""API: collections — the statement of account (对账函), a bill's dunning notices and its
dispute thread (CONTRACT "Collections")."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.bills import disputes
from billing.bills.dunning import notice_render_pdf, notices_for
from billing.bills.selectors import bill_for
from billing.bills.statement import customer_statement, statement_filename, statement_pdf, statement_range
from billing.models import BillCredit, DisputeMessage, DunningNotice
from common.files import pdf_response
from customers.access import MONEY_ROLES, customer_for, is_finance
from customers.permissions import IsFinance, IsFinanceOrPortal

STATEMENT_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (default: the first of this month)"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (default: the end of the month of `from`)"),
]
STATEMENT_EXAMPLE = {
    "customer": "ACME",
    "from": "2026-12-01",
    "to": "2026-12-31",
    "currency": "CNY",
    "opening_balance": "1060.00",
    "entries": [
        {
            "date": "2026-12-01",
            "kind": "bill",
            "number": "BILL-ACME-202611",
            "debit": "5300.00",
            "credit": "0.00",
            "balance": "6360.00",
        },
        {
            "date": "2026-12-15",
            "kind": "payment",
            "number": "CMB20261215-0042",
            "debit": "0.00",
            "credit": "6360.00",
            "balance": "0.00",
        },
    ],
    "closing_balance": "0.00",
}


def _statement(request: Request, code: str):
    customer = customer_for(request.user, code, roles=MONEY_ROLES)
    start, end = statement_range(start=request.query_params.get("from"), end=request.query_params.get("to"))
    return customer_statement(customer=customer, start=start, end=end)


class CustomerStatement(APIView):
    """``/customers/{code}/statement/``: the statement of account for a date range."""

    permission_classes = [IsFinanceOrPortal]

    @extend_schema(
        parameters=STATEMENT_PARAMETERS,
        responses=OpenApiTypes.OBJECT,
        examples=[OpenApiExample("A month with a bill and its payment", value=STATEMENT_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, code: str) -> Response:
        return Response(_statement(request, code).as_json())


class CustomerStatementPdf(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(parameters=STATEMENT_PARAMETERS, responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, code: str) -> HttpResponse:
        statement = _statement(request, code)
        return pdf_response(statement_pdf(statement), filename=statement_filename(statement))


class NoticeSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=DunningNotice.Stage.choices)
    number = serializers.CharField(allow_null=True)
    sent_at = serializers.DateTimeField(allow_null=True)
    to = serializers.ListField(child=serializers.EmailField())


class BillNotices(APIView):
    """``/bills/{number}/notices/``: every dunning notice of the bill, oldest first."""

    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses=NoticeSerializer(many=True))
    def get(self, request: Request, number: str) -> Response:
        bill = bill_for(request.user, number)
        return Response(NoticeSerializer(notices_for(bill), many=True).data)


class BillNoticePdf(APIView):
    """``/bills/{number}/notices/{notice}/pdf/``: a 催款函 (the two letter stages have one)."""

    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, number: str, notice: str) -> HttpResponse:
        found = notices_for(bill_for(request.user, number)).filter(number=notice).first()
        if found is None:
            raise Http404
        return pdf_response(notice_render_pdf(found), filename=f"{found.number}.pdf")


class MessageSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=disputes.MESSAGE_MAX)

    def to_representation(self, m: DisputeMessage):
        return {
            "at": m.at.isoformat(),
            "kind": m.kind,
            "side": m.side,
            "author": m.author.get_username() if m.author_id else None,
            "text": m.text,
            "credit": f"{m.credit.amount.amount:.2f}" if m.credit_id else None,
        }


class CreditSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    reason = serializers.CharField(max_length=disputes.REASON_MAX)

    def to_representation(self, c: BillCredit):
        return {
            "id": c.pk,
            "bill": c.bill.number,
            "amount": f"{c.amount.amount:.2f}",
            "currency": "CNY",
            "reason": c.reason,
            "remaining": f"{disputes.credit_remaining(c):.2f}",
            "carried_on": sorted({line.bill.number for line in c.lines.select_related("bill") if line.bill.number}),
        }


class ResolveSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=disputes.MESSAGE_MAX)


def _dispute_answer(bill) -> dict:
    return {
        "bill": bill.number,
        "confirmation": bill.confirmation,
        "messages": MessageSerializer(disputes.dispute_thread(bill), many=True).data,
        "credits": CreditSerializer(bill.credits_granted.select_related("bill"), many=True).data,
    }


class BillDispute(APIView):
    """``/bills/{number}/dispute/``: the dispute thread and the credits granted on the bill."""

    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, number: str) -> Response:
        return Response(_dispute_answer(bill_for(request.user, number)))


class BillDisputeMessages(APIView):
    """``POST /bills/{number}/dispute/messages/`` {text}: the customer (admin or finance role)
    or finance writes in the open dispute (409 when there is none)."""

    permission_classes = [IsFinanceOrPortal]

    @extend_schema(request=MessageSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, number: str) -> Response:
        bill = bill_for(request.user, number)
        serializer = MessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        disputes.dispute_reply(bill=bill, text=serializer.validated_data["text"], actor=request.user)
        bill.refresh_from_db()
        return Response(_dispute_answer(bill), status=status.HTTP_201_CREATED)


class BillDisputeResolve(APIView):
    """``POST /bills/{number}/dispute/resolve/`` {note} (finance): closes the dispute; dunning resumes."""

    permission_classes = [IsFinance]

    @extend_schema(request=ResolveSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, number: str) -> Response:
        bill = bill_for(request.user, number)
        serializer = ResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        disputes.dispute_resolve(bill=bill, note=serializer.validated_data["note"], actor=request.user)
        bill.refresh_from_db()
        return Response(_dispute_answer(bill))


class BillCredits(APIView):
    """``POST /bills/{number}/credits/`` {amount, reason} (finance): a credit line on the
    customer's next bill correcting this one (before VAT); resolves an open dispute."""

    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses=CreditSerializer(many=True))
    def get(self, request: Request, number: str) -> Response:
        bill = bill_for(request.user, number)
        return Response(CreditSerializer(bill.credits_granted.select_related("bill"), many=True).data)

    @extend_schema(
        request=CreditSerializer,
        responses={201: CreditSerializer},
        examples=[
            OpenApiExample(
                "A correction",
                value={"amount": "120.00", "reason": "gpt-4o 11-03 重复计费"},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, number: str) -> Response:
        bill = bill_for(request.user, number)
        if not is_finance(request.user):
            raise PermissionDenied(_("Credits are granted by finance."))
        serializer = CreditSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        credit = disputes.bill_credit_grant(bill=bill, actor=request.user, **serializer.validated_data)
        return Response(CreditSerializer(credit).data, status=status.HTTP_201_CREATED)
