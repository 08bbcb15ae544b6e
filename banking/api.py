"""API: bank statements (upload, match, book) and bank transactions (list, match, ignore).
Finance only."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from banking.models import BankTransaction, CsvProfile, StatementFormat
from banking.parsers import MAX_FILE_BYTES, OPTIONAL_ROLES, ROLES, StatementError
from banking.selectors import transaction_for, transactions_listed
from banking.services import statement_import, transaction_ignore, transaction_match
from billing.models import Bill
from common.api import PayloadTooLarge, query
from customers.models import Customer
from customers.permissions import IsFinance

# The multipart envelope around a 20 MB file: the form fields and part headers.
ENVELOPE_BYTES = 256 * 1024


def money(value) -> str:
    return f"{getattr(value, 'amount', value):.2f}"


class TransactionSerializer(serializers.Serializer):
    def to_representation(self, t: BankTransaction):
        return {
            "id": t.pk,
            "date": t.date.isoformat(),
            "amount": money(t.amount),
            "currency": str(t.amount.currency),
            "direction": t.direction,
            "payer_name": t.payer_name,
            "payer_account": t.payer_account,
            "memo": t.memo,
            "bank_reference": t.bank_reference,
            "status": t.status,
            "reason": t.reason,
            "payments": [
                {"bill": p.bill.number if p.bill_id else None, "amount": money(p.amount)}
                for p in sorted(t.payments.all(), key=lambda p: p.pk)
            ],
        }


# The answer's schema (the serializer above writes it by hand).
class PaymentPartSchema(serializers.Serializer):
    bill = serializers.CharField(allow_null=True)
    amount = serializers.CharField()


class TransactionSchema(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateField()
    amount = serializers.CharField(help_text="CNY, two decimals")
    currency = serializers.CharField()
    direction = serializers.ChoiceField(choices=BankTransaction.Direction.choices)
    payer_name = serializers.CharField()
    payer_account = serializers.CharField()
    memo = serializers.CharField()
    bank_reference = serializers.CharField()
    status = serializers.ChoiceField(choices=BankTransaction.Status.choices)
    reason = serializers.CharField()
    payments = PaymentPartSchema(many=True)


class MatchedSchema(serializers.Serializer):
    transaction = serializers.IntegerField()
    bill = serializers.CharField()
    amount = serializers.CharField()


class ImportAnswerSchema(serializers.Serializer):
    statement = serializers.IntegerField()
    transactions = serializers.IntegerField(help_text="lines read")
    duplicates = serializers.IntegerField(help_text="of them seen before")
    matched = MatchedSchema(many=True)
    unmatched = serializers.ListField(child=serializers.IntegerField())


def _column(role: str) -> serializers.CharField:
    return serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text=f"csv/xlsx: the header of the {role} column",
    )


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False, max_length=255)
    format = serializers.ChoiceField(choices=StatementFormat.values)
    encoding = serializers.ChoiceField(choices=CsvProfile.Encoding.values, required=False)
    profile = serializers.CharField(
        max_length=60, required=False, allow_blank=True, help_text="csv/xlsx: a saved column profile's name"
    )
    date = _column("date")
    amount = _column("amount (credits, or signed)")
    debit_amount = _column("debit amount (optional)")
    payer_name = _column("payer name")
    payer_account = _column("payer account")
    memo = _column("memo (several: separate with |)")
    bank_reference = _column("bank reference")
    currency = _column("currency (optional)")

    def validate(self, data):
        if data["file"].size > MAX_FILE_BYTES:
            raise PayloadTooLarge(_("The file is larger than 20 MB."))
        columns, encoding = {}, data.get("encoding")
        if data.get("profile"):
            profile = CsvProfile.objects.filter(name=data["profile"]).first()
            if profile is None:
                raise ValidationError({"profile": [_("No saved column profile with this name.")]})
            columns = {k: v for k, v in profile.columns.items() if isinstance(v, str)}
            encoding = encoding or profile.encoding
        columns |= {role: data[role] for role in (*ROLES, *OPTIONAL_ROLES) if data.get(role)}
        data["columns"], data["encoding"] = columns, encoding
        return data


def statement_answer(result) -> dict:
    return {
        "statement": result.statement.pk,
        "transactions": result.lines,
        "duplicates": result.duplicates,
        "matched": [
            {"transaction": t.pk, "bill": p.bill.number if p.bill_id else None, "amount": money(p.amount)}
            for t, p in result.matched
        ],
        "unmatched": [t.pk for t in result.unmatched],
    }


class BankStatementUpload(APIView):
    permission_classes = [IsFinance]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": UploadSerializer},
        responses={201: ImportAnswerSchema},
        examples=[
            OpenApiExample(
                "A GBK export of online banking",
                value={
                    "format": "csv",
                    "encoding": "gbk",
                    "date": "交易日期",
                    "amount": "贷方发生额",
                    "payer_name": "对方户名",
                    "payer_account": "对方账号",
                    "memo": "摘要",
                    "bank_reference": "流水号",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_FILE_BYTES + ENVELOPE_BYTES:
            raise PayloadTooLarge(_("The file is larger than 20 MB."))
        serializer = UploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data["file"]
        try:
            result = statement_import(
                file_name=upload.name or "statement",
                content=upload.read(),
                format=data["format"],
                columns=data["columns"],
                encoding=data["encoding"],
                actor=request.user,
            )
        except StatementError as exc:
            raise ValidationError({exc.field: [exc.message]}) from exc
        return Response(statement_answer(result), status=status.HTTP_201_CREATED)


class ListQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=BankTransaction.Status.values, required=False, allow_blank=True)


class BankTransactionList(APIView):
    permission_classes = [IsFinance]

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=list(BankTransaction.Status.values))],
        responses=TransactionSchema(many=True),
    )
    def get(self, request: Request) -> Response:
        params = query(ListQuery, request)
        qs = transactions_listed(status=params.get("status") or None)[:1000]
        return Response(TransactionSerializer(qs, many=True).data)


class MatchSerializer(serializers.Serializer):
    bills = serializers.ListField(
        child=serializers.CharField(max_length=80), required=False, min_length=1, max_length=50
    )
    customer = serializers.CharField(max_length=32, required=False)

    def validate(self, data):
        if bool(data.get("bills")) == bool(data.get("customer")):
            raise ValidationError({"bills": [_("Give either the bills or the customer.")]})
        if data.get("bills"):
            found = {b.number: b for b in Bill.objects.filter(number__in=data["bills"]).select_related("customer")}
            missing = [n for n in data["bills"] if n not in found]
            if missing:
                raise ValidationError({"bills": [_("No bill %(number)s.") % {"number": missing[0]}]})
            if len(set(data["bills"])) != len(data["bills"]):
                raise ValidationError({"bills": [_("A bill is named twice.")]})
            data["bills"] = [found[n] for n in data["bills"]]
        else:
            customer = Customer.objects.filter(code=data["customer"].strip().upper()).first()
            if customer is None:
                raise ValidationError({"customer": [_("No customer with this code.")]})
            data["customer"] = customer
        return data


class BankTransactionMatch(APIView):
    permission_classes = [IsFinance]

    @extend_schema(
        request=MatchSerializer,
        responses=TransactionSchema,
        examples=[
            OpenApiExample("Pay bills", value={"bills": ["BILL-ACME-202611"]}, request_only=True),
            OpenApiExample("Hold as credit", value={"customer": "ACME"}, request_only=True),
        ],
    )
    def post(self, request: Request, pk: int) -> Response:
        txn = transaction_for(pk)
        serializer = MatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        txn = transaction_match(
            txn=txn,
            bills=serializer.validated_data.get("bills"),
            customer=serializer.validated_data.get("customer"),
            actor=request.user,
        )
        return Response(TransactionSerializer(transaction_for(txn.pk)).data)


class IgnoreSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class BankTransactionIgnore(APIView):
    permission_classes = [IsFinance]

    @extend_schema(request=IgnoreSerializer, responses=TransactionSchema)
    def post(self, request: Request, pk: int) -> Response:
        txn = transaction_for(pk)
        serializer = IgnoreSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        txn = transaction_ignore(txn=txn, reason=serializer.validated_data["reason"], actor=request.user)
        return Response(TransactionSerializer(transaction_for(txn.pk)).data)
