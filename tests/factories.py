"""factory-boy factories. Writes that have rules go through services, as in production."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from customers import services
from customers.models import Contract, Customer, Project
from customers.validators import uscc_check_character


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
    vat_rate = Decimal("0.06")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        django_get_or_create = ("customer", "code")

    customer = factory.SubFactory(CustomerFactory)
    code = factory.Sequence(lambda n: f"proj{n}")
    name = factory.Sequence(lambda n: f"项目 {n}")


def api_key_for(project: Project, name: str = "key"):
    return services.api_key_create(project=project, name=name)
