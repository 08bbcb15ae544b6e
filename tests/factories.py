"""The one place test data is built: factory-boy factories for plain rows, and builders
for data with rules (price versions, exchange rates, the seller profile, a customer with its
contract, an API key), which go through the services as production does. The helper
modules of the test packages build through these; they add only their own scenarios."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from billing.models import ExchangeRate, PriceVersion, SellerProfile
from billing.pricing.services import exchange_rate_set, price_version_set
from common.vat import DEFAULT_VAT_RATE
from customers import services
from customers.models import ApiKey, Contract, Customer, Project
from customers.validators import uscc_check_character

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A moment in Asia/Shanghai (BILLING_TIME_ZONE)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def valid_uscc(seq: int) -> str:
    first17 = f"9131000{seq:010d}"
    return first17 + uscc_check_character(first17)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True  # the password is hashed at build; groups are m2m

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        for name in extracted or []:
            self.groups.add(Group.objects.get_or_create(name=name)[0])


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"CUST{n}")
    name = factory.Sequence(lambda n: f"测试客户 {n} 有限公司")
    tax_id = factory.Sequence(valid_uscc)
    email = factory.LazyAttribute(lambda c: f"ap@{c.code.lower()}.example.cn")


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"HT-{n:05d}")
    starts_on = date(2026, 1, 1)
    price_currency = "USD"
    discount_percent = Decimal("0")
    vat_rate = DEFAULT_VAT_RATE


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        django_get_or_create = ("customer", "code")

    customer = factory.SubFactory(CustomerFactory)
    code = factory.Sequence(lambda n: f"proj{n}")
    name = factory.Sequence(lambda n: f"项目 {n}")


def api_key_for(project: Project, name: str = "key"):
    return services.api_key_create(project=project, name=name)


def customer_with_contract(code: str, name: str | None = None, **terms: Any) -> Customer:
    """A customer with one active contract from 2026-01-01 (USD, no discount, VAT 6 %, 30 days)."""
    customer = CustomerFactory(code=code, **({"name": name} if name else {}))
    ContractFactory(customer=customer, number=f"HT-{code}-1", **terms)
    return customer


def key_for(customer: Customer, project_code: str = "chatbot", name: str = "prod") -> ApiKey:
    """The customer's API key ``name`` in project ``project_code`` (both made when missing)."""
    project = ProjectFactory(customer=customer, code=project_code, name=f"项目 {project_code}")
    key = ApiKey.objects.filter(project=project, name=name).first()
    if key is None:
        key, _secret = api_key_for(project, name=name)
    return key


def price_version(
    model: str = "gpt-4o",
    *,
    provider: str = "openai",
    input: str = "2.5",
    cached: str | None = "1.25",
    output: str = "10",
    currency: str = "USD",
    effective_from: date | datetime = date(2026, 1, 1),
) -> PriceVersion:
    """A price version through the service (default: openai/gpt-4o, 2.5 input, 1.25 cached,
    10 output USD per 1M tokens, from 2026-01-01); a date means 00:00 in Asia/Shanghai."""
    if not isinstance(effective_from, datetime):
        effective_from = datetime.combine(effective_from, time.min, tzinfo=SHANGHAI)
    version, _created = price_version_set(
        provider=provider,
        model=model,
        effective_from=effective_from,
        currency=currency,
        input_per_mtok=Decimal(input),
        cached_input_per_mtok=None if cached is None else Decimal(cached),
        output_per_mtok=Decimal(output),
    )
    return version


def exchange_rate(period: date, value: str, currency: str = "USD") -> ExchangeRate:
    """Finance's rate for ``currency`` in ``period``, through the service."""
    rate, _created = exchange_rate_set(currency=currency, period=period, rate=Decimal(value))
    return rate


SELLER = {
    "name": "上海智算科技有限公司",
    "tax_id": valid_uscc(990001),
    "province_code": "31",
    "address": "上海市浦东新区张江路88号",
    "phone": "021-55550000",
    "bank_name": "招商银行上海张江支行",
    "bank_account": "121900000000001",
    "email": "billing@zhisuan.example.cn",
    "issuing_clerk": "王会计",
    "invoice_amount_limit": None,
}


def seller_profile(**changes: Any) -> SellerProfile:
    """Our company in force since 2020 (the migration's placeholder, filled in)."""
    profile, _created = SellerProfile.objects.update_or_create(
        effective_from=date(2020, 1, 1), defaults={**SELLER, **changes}
    )
    return profile
