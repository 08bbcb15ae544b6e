"""HTTP API for VAT invoices: issue on a bill, read, PDF, red-letter reversal, requests."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api.bill_serializers import money
from billing.bills.selectors import bill_for
from common.api import filtered
from common.uploads import MAX_UPLOAD_BYTES
from customers.access import MONEY_ROLES, IsFinance, IsFinanceOrPortal, is_finance, portal_membership
from customers.models import InvoiceType
from invoices import services
from invoices.documents import invoice_pdf_bytes
from invoices.filters import InvoiceFilter
from invoices.models import Invoice, InvoiceRequest, RedReason
from invoices.selectors import invoice_for, invoice_with_pdf_for, visible_invoices


class InvoiceLineSerializer(serializers.Serializer):
    def to_representation(self, line):
        return {
            "item": line.printed_name,
            "tax_code": line.tax_code,
            "spec": line.spec,
            "unit": line.unit,
            "quantity": None if line.quantity is None else f"{line.quantity.normalize():f}",
            "unit_price": None if line.unit_price is None else f"{line.unit_price.normalize():f}",
            "amount": money(line.amount),
            "tax_rate": f"{line.tax_rate:f}",
            "tax": money(line.tax),
        }


class InvoiceSerializer(serializers.Serializer):
    """The invoice as CONTRACT.md spells it, plus lines and the seller/buyer snapshot."""

    def to_representation(self, inv: Invoice):
        return {
            "number": inv.number,
            "order_number": inv.order_number,
            "bill": inv.bill.number,
            "customer": inv.customer.code,
            "color": inv.color,
            "invoice_type": inv.invoice_type,
            "status": inv.status,
            "issued_on": inv.issued_on.isoformat() if inv.issued_on else None,
            "amount": money(inv.amount),
            "vat": money(inv.vat),
            "total": money(inv.total),
            "vat_rate": f"{inv.vat_rate:f}",
            "currency": "CNY",
            "buyer_name": inv.buyer.get("name", ""),
            "buyer_tax_id": inv.buyer.get("tax_id", ""),
            "seller_name": inv.seller.get("name", ""),
            "original": inv.original.number if inv.original_id else None,
            "red_reason": inv.red_reason,
            "remark": inv.remark,
            "backend": inv.backend,
            "lines": InvoiceLineSerializer(inv.lines.all(), many=True).data,
        }


class IssueSerializer(serializers.Serializer):
    invoice_type = serializers.ChoiceField(choices=InvoiceType.choices, required=False)
    lines = serializers.ChoiceField(
        choices=[("bill", "one line per bill"), ("model", "one line per model")], default="bill"
    )
    remark = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class BillInvoices(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses=InvoiceSerializer(many=True))
    def get(self, request: Request, number: str) -> Response:
        bill = bill_for(request.user, number)
        return Response(InvoiceSerializer(visible_invoices(request.user).filter(bill=bill), many=True).data)

    @extend_schema(
        request=IssueSerializer,
        responses={201: OpenApiTypes.OBJECT},
        examples=[OpenApiExample("Special invoice", value={"invoice_type": "special"}, request_only=True)],
    )
    def post(self, request: Request, number: str) -> Response:
        bill = bill_for(request.user, number)
        if not is_finance(request.user):
            raise PermissionDenied(_("Invoices are issued by finance; customers send an invoice request."))
        serializer = IssueSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        invoices = services.invoice_issue(
            bill=bill,
            invoice_type=data.get("invoice_type"),
            per_model=data["lines"] == "model",
            remark=data["remark"],
            actor=request.user,
        )
        for invoice in invoices:
            invoice.refresh_from_db()
        return Response({"invoices": InvoiceSerializer(invoices, many=True).data}, status=status.HTTP_201_CREATED)


class InvoiceList(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(
        parameters=[
            OpenApiParameter("customer", str),
            OpenApiParameter("bill", str),
            OpenApiParameter("color", str, enum=["blue", "red"]),
            OpenApiParameter("status", str, enum=list(Invoice.Status.values)),
        ],
        responses=InvoiceSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        qs = filtered(InvoiceFilter, request, visible_invoices(request.user))
        return Response(InvoiceSerializer(qs[:500], many=True).data)


class InvoiceDetail(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses=InvoiceSerializer)
    def get(self, request: Request, number: str) -> Response:
        return Response(InvoiceSerializer(invoice_for(request.user, number)).data)


class InvoicePdf(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, number: str) -> HttpResponse:
        invoice = invoice_with_pdf_for(request.user, number)
        response = HttpResponse(invoice_pdf_bytes(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
        return response


class RedLetterSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=RedReason.choices)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class InvoiceRedLetter(APIView):
    permission_classes = [IsFinance]

    @extend_schema(
        request=RedLetterSerializer,
        responses={201: InvoiceSerializer},
        examples=[
            OpenApiExample("Full reversal, issued in error", value={"reason": 2}, request_only=True),
            OpenApiExample(
                "Partial discount", value={"reason": 4, "amount": "100.00", "note": "年度折让"}, request_only=True
            ),
        ],
    )
    def post(self, request: Request, number: str) -> Response:
        blue = invoice_for(request.user, number)
        serializer = RedLetterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        red = services.invoice_red_letter(blue=blue, actor=request.user, **serializer.validated_data)
        red.refresh_from_db()
        return Response(InvoiceSerializer(red).data, status=status.HTTP_201_CREATED)


class InvoiceRequestSerializer(serializers.Serializer):
    bill = serializers.CharField()
    invoice_type = serializers.ChoiceField(choices=InvoiceType.choices)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    def to_representation(self, obj: InvoiceRequest):
        return {
            "id": obj.pk,
            "customer": obj.customer.code,
            "bill": obj.bill.number,
            "invoice_type": obj.invoice_type,
            "note": obj.note,
            "status": obj.status,
            "created_at": obj.created_at.isoformat(),
        }


class InvoiceRequests(APIView):
    """Customers (portal admin/finance) ask for an invoice on one of their bills."""

    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses=InvoiceRequestSerializer(many=True))
    def get(self, request: Request) -> Response:
        qs = InvoiceRequest.objects.select_related("customer", "bill")
        if not is_finance(request.user):
            membership = portal_membership(request.user)
            if membership.role not in MONEY_ROLES:
                raise PermissionDenied()
            qs = qs.filter(customer_id=membership.customer_id)
        return Response(InvoiceRequestSerializer(qs[:500], many=True).data)

    @extend_schema(
        request=InvoiceRequestSerializer,
        responses={
            201: InvoiceRequestSerializer,
            404: OpenApiResponse(description="No such bill (or one of another customer)."),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = InvoiceRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        created = services.invoice_request_create(
            bill=bill_for(request.user, data["bill"]),
            invoice_type=data["invoice_type"],
            note=data["note"],
            actor=request.user,
        )
        return Response(InvoiceRequestSerializer(created).data, status=status.HTTP_201_CREATED)


class RecordSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=20)
    issued_on = serializers.DateField()
    platform_file = serializers.FileField(required=False)

    def validate_platform_file(self, upload):
        if upload is not None and upload.size > MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(
                _("The file is larger than %(n)d MB.") % {"n": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


class InvoiceRecordManual(APIView):
    """Manual backend: record the number, date and file of an invoice issued on the tax platform."""

    permission_classes = [IsFinance]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(request={"multipart/form-data": RecordSerializer}, responses=InvoiceSerializer)
    def post(self, request: Request, number: str) -> Response:
        invoice = invoice_for(request.user, number)
        serializer = RecordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invoice = services.invoice_record_manual(invoice=invoice, actor=request.user, **serializer.validated_data)
        return Response(InvoiceSerializer(invoice).data)
