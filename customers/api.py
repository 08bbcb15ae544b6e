"""HTTP API for customers, contracts, projects, portal users and API keys (thin views)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import WholeNumberField
from common.vat import DEFAULT_VAT_RATE
from customers import services
from customers.access import (
    MANAGE_ROLES,
    MONEY_ROLES,
    READ_USAGE_ROLES,
    customer_for,
    is_finance,
    visible_customers,
)
from customers.models import ApiKey, Contract, Customer, InvoiceTitle, InvoiceType, PortalUser, Project
from customers.permissions import IsFinanceOrPortal

# --- Serializers ----------------------------------------------------------------------


class MoneyString(serializers.DecimalField):
    """A money amount in JSON: a string with two decimals."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return super().to_representation(getattr(value, "amount", value))


class CustomerSerializer(serializers.ModelSerializer):
    tax_id_override = serializers.BooleanField(required=False, default=False, write_only=True)
    tax_id_warning = serializers.SerializerMethodField()
    billing_cc = serializers.ListField(child=serializers.EmailField(), required=False)

    class Meta:
        model = Customer
        fields = [
            "code",
            "name",
            "tax_id",
            "tax_id_override",
            "tax_id_warning",
            "address",
            "phone",
            "bank_name",
            "bank_account",
            "email",
            "billing_cc",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["is_active", "created_at"]
        extra_kwargs = {"code": {"validators": []}, "tax_id": {"required": False}}

    def get_tax_id_warning(self, obj: Customer) -> str:
        from customers.validators import check_tax_id

        result = check_tax_id(obj.tax_id)
        if obj.tax_id_override:
            return str(_("The tax id failed the check and was accepted by staff."))
        return result.warning


class ContractSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.code", read_only=True)
    minimum_monthly_commitment = MoneyString(required=False, min_value=Decimal("0"))
    currency = serializers.SerializerMethodField(help_text="The bill currency (CNY).")
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("100"), required=False
    )
    vat_rate = serializers.DecimalField(
        max_digits=5, decimal_places=4, min_value=Decimal("0"), max_value=Decimal("1"), required=False
    )
    fixed_exchange_rate = serializers.DecimalField(
        max_digits=12, decimal_places=6, min_value=Decimal("0.000001"), required=False, allow_null=True
    )
    payment_terms_days = WholeNumberField(min_value=0, max_value=365, required=False)
    monthly_service_fee = MoneyString(required=False, allow_null=True, min_value=Decimal("0"))
    credit_limit = MoneyString(required=False, allow_null=True, min_value=Decimal("0"))
    suspend_after_overdue_days = WholeNumberField(min_value=0, max_value=365, required=False, allow_null=True)

    class Meta:
        model = Contract
        fields = [
            "number",
            "customer",
            "status",
            "starts_on",
            "ends_on",
            "signed_on",
            "payment_terms_days",
            "price_currency",
            "discount_percent",
            "fixed_exchange_rate",
            "minimum_monthly_commitment",
            "monthly_service_fee",
            "credit_limit",
            "suspend_after_overdue_days",
            "currency",
            "vat_rate",
            "invoice_type",
            "invoice_timing",
            "requires_confirmation",
            "bill_per_project",
            "notes",
            "created_at",
        ]
        read_only_fields = ["created_at"]
        extra_kwargs = {"number": {"validators": []}}

    def get_currency(self, obj) -> str:
        return "CNY"


class ProjectSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.code", read_only=True)

    class Meta:
        model = Project
        fields = ["code", "name", "customer", "is_active", "created_at"]
        read_only_fields = ["is_active", "created_at"]
        extra_kwargs = {"code": {"validators": []}}


class ApiKeySerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.code", read_only=True)
    project = serializers.CharField(source="project.code", read_only=True)
    secret = serializers.SerializerMethodField(help_text="Only in the answer that creates the key; never again.")

    class Meta:
        model = ApiKey
        fields = [
            "key_id",
            "secret",
            "name",
            "external_id",
            "customer",
            "project",
            "secret_hint",
            "created_at",
            "revoked_at",
        ]
        read_only_fields = ["key_id", "secret_hint", "created_at", "revoked_at"]
        extra_kwargs = {
            "external_id": {
                "required": False,
                "allow_null": True,
                "allow_blank": True,
                "validators": [],  # checked by the service, which names the field
                "help_text": "The gateway's own id for this key (e.g. newapi:42), unique; set by finance staff.",
            }
        }

    def get_secret(self, obj) -> str | None:
        return self.context.get("secret")


class PortalUserSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField()
    password = serializers.CharField(
        write_only=True,
        required=False,
        style={"input_type": "password"},
        help_text="Leave out to invite: the user is e-mailed a link to choose a password.",
    )
    role = serializers.ChoiceField(choices=PortalUser.Role.choices)
    customer = serializers.CharField(read_only=True)

    def to_representation(self, instance: PortalUser):
        return {
            "username": instance.user.username,
            "email": instance.user.email,
            "role": instance.role,
            "customer": instance.customer.code,
        }


# --- Views ----------------------------------------------------------------------------


class CustomerListCreate(generics.ListCreateAPIView):
    serializer_class = CustomerSerializer
    permission_classes = [IsFinanceOrPortal]
    filterset_fields = ["is_active"]

    def get_queryset(self) -> QuerySet[Customer]:
        qs = visible_customers(self.request.user)
        search = self.request.query_params.get("search")
        if search:
            qs = qs.filter(code__icontains=search) | qs.filter(name__icontains=search)
        return qs.order_by("code")

    @extend_schema(
        examples=[
            OpenApiExample(
                "A customer",
                value={
                    "code": "ACME",
                    "name": "上海阿克米信息技术有限公司",
                    "tax_id": "91310000MA1FL8XQ37",
                    "address": "上海市浦东新区世纪大道100号",
                    "phone": "021-12345678",
                    "bank_name": "招商银行上海分行",
                    "bank_account": "121900000010001",
                    "email": "ap@acme.example",
                },
                request_only=True,
            )
        ]
    )
    def post(self, request, *args, **kwargs):
        if not is_finance(request.user):
            raise PermissionDenied()
        serializer = CustomerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = services.customer_create(by=request.user, **serializer.validated_data)
        return Response(CustomerSerializer(customer).data, status=status.HTTP_201_CREATED)


class CustomerDetail(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses=CustomerSerializer)
    def get(self, request: Request, code: str) -> Response:
        return Response(CustomerSerializer(customer_for(request.user, code, roles=READ_USAGE_ROLES)).data)

    @extend_schema(request=CustomerSerializer, responses=CustomerSerializer)
    def patch(self, request: Request, code: str) -> Response:
        customer = customer_for(request.user, code, roles=frozenset())
        serializer = CustomerSerializer(customer, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("code", None)
        override = data.pop("tax_id_override", None) if "tax_id_override" in request.data else None
        customer = services.customer_update(customer=customer, by=request.user, tax_id_override=override, **data)
        return Response(CustomerSerializer(customer).data)


class ContractListCreate(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses=ContractSerializer(many=True))
    def get(self, request: Request, code: str) -> Response:
        customer = customer_for(request.user, code, roles=frozenset({PortalUser.Role.ADMIN, PortalUser.Role.FINANCE}))
        return Response(ContractSerializer(customer.contracts.order_by("-starts_on"), many=True).data)

    @extend_schema(
        request=ContractSerializer,
        responses={201: ContractSerializer},
        examples=[
            OpenApiExample(
                "USD list prices, 5 % off",
                value={
                    "number": "HT-2026-001",
                    "starts_on": "2026-01-01",
                    "ends_on": "2026-12-31",
                    "payment_terms_days": 30,
                    "price_currency": "USD",
                    "discount_percent": "5.00",
                    "fixed_exchange_rate": None,
                    "minimum_monthly_commitment": "1000.00",
                    "vat_rate": str(DEFAULT_VAT_RATE),
                    "invoice_type": InvoiceType.SPECIAL,
                    "bill_per_project": False,
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, code: str) -> Response:
        customer = customer_for(request.user, code, roles=frozenset())
        serializer = ContractSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contract = services.contract_create(customer=customer, by=request.user, **serializer.validated_data)
        return Response(ContractSerializer(contract).data, status=status.HTTP_201_CREATED)


class ContractDetail(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses=ContractSerializer)
    def get(self, request: Request, code: str, number: str) -> Response:
        customer = customer_for(request.user, code, roles=frozenset({PortalUser.Role.ADMIN, PortalUser.Role.FINANCE}))
        return Response(ContractSerializer(get_object_or_404(Contract, customer=customer, number=number)).data)


class ProjectListCreate(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses=ProjectSerializer(many=True))
    def get(self, request: Request, code: str) -> Response:
        customer = customer_for(request.user, code, roles=READ_USAGE_ROLES)
        return Response(ProjectSerializer(customer.projects.all(), many=True).data)

    @extend_schema(request=ProjectSerializer, responses={201: ProjectSerializer})
    def post(self, request: Request, code: str) -> Response:
        customer = customer_for(request.user, code, roles=MANAGE_ROLES)
        serializer = ProjectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = services.project_create(customer=customer, **serializer.validated_data)
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


class PortalUserListCreate(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses=PortalUserSerializer(many=True))
    def get(self, request: Request, code: str) -> Response:
        customer = customer_for(request.user, code, roles=MANAGE_ROLES)
        members = customer.portal_users.select_related("user", "customer")
        return Response(PortalUserSerializer(members, many=True).data)

    @extend_schema(request=PortalUserSerializer, responses={201: PortalUserSerializer})
    def post(self, request: Request, code: str) -> Response:
        customer = customer_for(request.user, code, roles=MANAGE_ROLES)
        serializer = PortalUserSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("password"):
            member = services.portal_user_create(customer=customer, **data)
        else:
            member = services.portal_user_invite(
                customer=customer,
                username=data["username"],
                email=data["email"],
                role=data["role"],
                # The portal's set-password page, reversed by its name: customers does not import portal.
                link_for=lambda user: request.build_absolute_uri(
                    reverse("portal:invitation", kwargs=services.invitation_kwargs(user))
                ),
            )
        return Response(PortalUserSerializer(member).data, status=status.HTTP_201_CREATED)


def _project_for(request: Request, code: str, project_code: str, *, roles) -> Project:
    customer = customer_for(request.user, code, roles=roles)
    return get_object_or_404(Project, customer=customer, code=project_code)


class ApiKeyListCreate(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses=ApiKeySerializer(many=True))
    def get(self, request: Request, code: str, project: str) -> Response:
        project_obj = _project_for(request, code, project, roles=READ_USAGE_ROLES)
        keys = project_obj.api_keys.select_related("customer", "project")
        return Response(ApiKeySerializer(keys, many=True).data)

    @extend_schema(
        request=inline_serializer(
            "ApiKeyCreate",
            {
                "name": serializers.CharField(max_length=100),
                "external_id": serializers.CharField(max_length=128, required=False, allow_null=True),
            },
        ),
        responses={201: ApiKeySerializer},
    )
    def post(self, request: Request, code: str, project: str) -> Response:
        project_obj = _project_for(request, code, project, roles=MANAGE_ROLES)
        serializer = ApiKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        external_id = serializer.validated_data.get("external_id") or None
        if external_id is not None and not is_finance(request.user):
            # The mapping decides whose bill a gateway's usage lands on: finance sets it.
            raise serializers.ValidationError({"external_id": [_("Only finance staff can set the external id.")]})
        key, secret = services.api_key_create(
            project=project_obj, name=serializer.validated_data["name"], external_id=external_id, by=request.user
        )
        return Response(ApiKeySerializer(key, context={"secret": secret}).data, status=status.HTTP_201_CREATED)


class CustomerApiKeyList(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses=ApiKeySerializer(many=True))
    def get(self, request: Request, code: str) -> Response:
        customer = customer_for(request.user, code, roles=READ_USAGE_ROLES)
        keys = customer.api_keys.select_related("customer", "project")
        return Response(ApiKeySerializer(keys, many=True).data)


class ApiKeyRevoke(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(request=None, responses=ApiKeySerializer)
    def post(self, request: Request, code: str, project: str, key_id: str) -> Response:
        project_obj = _project_for(request, code, project, roles=MANAGE_ROLES)
        key = get_object_or_404(ApiKey, project=project_obj, key_id=key_id)
        key = services.api_key_revoke(key=key, by=request.user)
        return Response(ApiKeySerializer(key).data)


class InvoiceTitleSerializer(serializers.ModelSerializer):
    tax_id_override = serializers.BooleanField(required=False, default=False, write_only=True)

    class Meta:
        model = InvoiceTitle
        fields = [
            "id",
            "name",
            "tax_id",
            "tax_id_override",
            "address",
            "phone",
            "bank_name",
            "bank_account",
            "email",
            "invoice_type",
            "is_default",
        ]
        read_only_fields = ["id"]


class InvoiceTitleListCreate(APIView):
    """发票抬头: what the customer wants printed on its invoices (portal admin/finance, or finance)."""

    permission_classes = [IsFinanceOrPortal]

    @extend_schema(responses=InvoiceTitleSerializer(many=True))
    def get(self, request: Request, code: str) -> Response:
        customer = customer_for(request.user, code, roles=MONEY_ROLES)
        return Response(InvoiceTitleSerializer(customer.invoice_titles.order_by("-is_default", "pk"), many=True).data)

    @extend_schema(request=InvoiceTitleSerializer, responses={201: InvoiceTitleSerializer})
    def post(self, request: Request, code: str) -> Response:
        customer = customer_for(request.user, code, roles=MONEY_ROLES)
        serializer = InvoiceTitleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        title = services.invoice_title_save(
            customer=customer, staff=is_finance(request.user), **serializer.validated_data
        )
        return Response(InvoiceTitleSerializer(title).data, status=status.HTTP_201_CREATED)


class InvoiceTitleDetail(APIView):
    permission_classes = [IsFinanceOrPortal]

    @extend_schema(request=InvoiceTitleSerializer, responses=InvoiceTitleSerializer)
    def patch(self, request: Request, code: str, pk: int) -> Response:
        customer = customer_for(request.user, code, roles=MONEY_ROLES)
        title = get_object_or_404(InvoiceTitle, customer=customer, pk=pk)
        serializer = InvoiceTitleSerializer(title, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        title = services.invoice_title_save(
            customer=customer, title=title, staff=is_finance(request.user), **serializer.validated_data
        )
        return Response(InvoiceTitleSerializer(title).data)
