"""API: bills — list, detail, PDF, payments, statement confirmation, month close, void and
reissue."""

from __future__ import annotations

from datetime import date

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api.bill_serializers import BillSerializer, money
from billing.api.filters import BillFilter, PeriodField
from billing.bills import lifecycle
from billing.bills.documents import bill_pdf_bytes
from billing.bills.selectors import bill_for, bill_with_pdf_for, visible_bills
from billing.models import Bill, Payment
from billing.periods import format_period, next_period, period_start
from common.api import filtered, query
from common.tasks import enqueue
from customers.access import MONEY_ROLES, IsFinance, IsFinanceOrPortal, customer_for, is_finance


class BillList(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(
        parameters=[
            OpenApiParameter("customer", str),
            OpenApiParameter("period", str, description="YYYY-MM"),
            OpenApiParameter("status", str, enum=list(Bill.Status.values)),
        ],
        responses=BillSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        qs = visible_bills(request.user)
        qs = filtered(BillFilter, request, qs)
        return Response(BillSerializer(qs.order_by("-period", "customer__code", "pk")[:500], many=True).data)


class BillDetail(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses=BillSerializer)
    def get(self, request: Request, number: str) -> Response:
        return Response(BillSerializer(bill_for(request.user, number)).data)


class PdfQuery(serializers.Serializer):
    regenerate = serializers.BooleanField(required=False)  # true/false, 1/0, yes/no; anything else is a 400


class BillPdf(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(
        parameters=[OpenApiParameter("regenerate", bool, description="Finance: render the PDF again first.")],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, number: str) -> HttpResponse:
        bill = bill_with_pdf_for(request.user, number)
        if query(PdfQuery, request).get("regenerate") and is_finance(request.user):
            from billing.bills.documents import bill_render_pdf

            bill = bill_render_pdf(bill_id=bill.pk)
        response = HttpResponse(bill_pdf_bytes(bill), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{bill.number}.pdf"'
        return response


class PaymentSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField(max_length=3, required=False, default="CNY")
    received_on = serializers.DateField()
    reference = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="The bank's reference (流水号); required unless an Idempotency-Key header is sent.",
    )
    payer_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    def to_representation(self, p: Payment):
        return {
            "id": p.pk,
            "bill": p.bill.number if p.bill_id else None,
            "method": p.method,
            "amount": money(p.amount),
            "applied": money(p.applied),
            "currency": "CNY",
            "received_on": p.received_on.isoformat(),
            "reference": p.reference,
            "payer_name": p.payer_name,
            "payer_mismatch": p.payer_mismatch,
        }


class BillPayments(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses=PaymentSerializer(many=True))
    def get(self, request: Request, number: str) -> Response:
        bill = bill_for(request.user, number)
        return Response(PaymentSerializer(bill.payments.select_related("bill"), many=True).data)

    @extend_schema(
        request=PaymentSerializer,
        responses={201: PaymentSerializer, 200: PaymentSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="A retry with the same key answers the first payment (200) instead of booking again.",
            )
        ],
        examples=[
            OpenApiExample(
                "A bank transfer",
                value={
                    "amount": "10600.00",
                    "received_on": "2026-12-15",
                    "reference": "CMB20261215-0042",
                    "payer_name": "上海阿克米信息技术有限公司",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, number: str) -> Response:
        if not is_finance(request.user):
            bill_for(request.user, number)  # 404 for another customer's bill
            raise PermissionDenied(_("Payments are recorded by finance."))
        bill = bill_for(request.user, number)
        serializer = PaymentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 255:
            raise serializers.ValidationError(
                {"Idempotency-Key": [_("Use an Idempotency-Key of at most 255 characters.")]}
            )
        if not key and not serializer.validated_data["reference"].strip():
            raise serializers.ValidationError(
                {
                    "reference": [
                        _(
                            "Give the bank reference of the transfer (or send an Idempotency-Key header), "
                            "so that a retried request is not booked twice."
                        )
                    ]
                }
            )
        payment, created = lifecycle.payment_record(
            bill=bill, actor=request.user, idempotency_key=key, **serializer.validated_data
        )
        return Response(
            PaymentSerializer(payment).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class ConfirmSerializer(serializers.Serializer):
    confirmed = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class BillConfirm(APIView):
    """The customer confirms (对账确认) or disputes the statement."""

    permission_classes = [IsFinanceOrPortal]

    @extend_schema(request=ConfirmSerializer, responses=BillSerializer)
    def post(self, request: Request, number: str) -> Response:
        bill = bill_for(request.user, number)
        serializer = ConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        bill = lifecycle.bill_confirm(bill=bill, actor=request.user, **serializer.validated_data)
        return Response(BillSerializer(bill).data)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class BillVoid(APIView):
    permission_classes = [IsFinance]

    @extend_schema(request=ReasonSerializer, responses=BillSerializer)
    def post(self, request: Request, number: str) -> Response:
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        bill = lifecycle.bill_void(
            bill=bill_for(request.user, number), reason=serializer.validated_data["reason"], actor=request.user
        )
        return Response(BillSerializer(bill).data)


class BillReissue(APIView):
    permission_classes = [IsFinance]

    @extend_schema(request=None, responses={201: BillSerializer(many=True)})
    def post(self, request: Request, number: str) -> Response:
        outcomes = lifecycle.bill_reissue(bill=bill_for(request.user, number), actor=request.user)
        return Response(BillSerializer([o.bill for o in outcomes], many=True).data, status=status.HTTP_201_CREATED)


class CloseSerializer(serializers.Serializer):
    period = PeriodField()
    customer = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_period(self, month: date) -> date:
        from django.utils import timezone

        if period_start(next_period(month)) > timezone.now():
            raise serializers.ValidationError(_("This period has not ended yet."))
        return month


class MonthClose(APIView):
    """Queue the close of a period: one Celery task per customer (202)."""

    permission_classes = [IsFinance]

    @extend_schema(request=CloseSerializer, responses={202: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        from billing.bills.close import customers_to_close
        from customers.models import Customer

        serializer = CloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        month, code = serializer.validated_data["period"], serializer.validated_data["customer"]
        if code:
            customer = Customer.objects.filter(code=code.upper()).first()
            if customer is None:
                raise ValidationError({"customer": [_("No customer with this code.")]})
            ids = [customer.pk]
        else:
            ids = customers_to_close(month)
        for customer_id in ids:
            enqueue("billing.tasks.month_close_customer", customer_id, month.isoformat())
        return Response({"period": format_period(month), "queued": len(ids)}, status=status.HTTP_202_ACCEPTED)


class DepositSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    received_on = serializers.DateField()
    reference = serializers.CharField(max_length=100)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    def to_representation(self, p: Payment):
        return {
            "id": p.pk,
            "customer": p.customer.code,
            "method": p.method,
            "amount": money(p.amount),
            "currency": "CNY",
            "received_on": p.received_on.isoformat(),
            "reference": p.reference,
            "held": True,
        }


class CustomerDeposits(APIView):
    """``/customers/{code}/deposits/``: deposits (押金) received, held as credit (finance)."""

    permission_classes = [IsFinance]

    @extend_schema(responses=DepositSerializer(many=True))
    def get(self, request: Request, code: str) -> Response:
        customer = customer_for(request.user, code, roles=MONEY_ROLES)
        deposits = Payment.objects.filter(customer=customer, method=Payment.Method.DEPOSIT).select_related("customer")
        return Response(DepositSerializer(deposits, many=True).data)

    @extend_schema(request=DepositSerializer, responses={201: DepositSerializer, 200: DepositSerializer})
    def post(self, request: Request, code: str) -> Response:
        customer = customer_for(request.user, code, roles=MONEY_ROLES)
        serializer = DepositSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment, created = lifecycle.deposit_record(customer=customer, actor=request.user, **serializer.validated_data)
        return Response(
            DepositSerializer(payment).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )
