"""seed_demo loads the demo and changes nothing the second time."""

from __future__ import annotations

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from customers.models import ApiKey, Contract, Customer, PortalUser, Project
from customers.validators import check_tax_id
from invoices.models import Invoice
from procurement.demo import DEMO_LOGINS

pytestmark = pytest.mark.django_db

# The demo's usage runs up to "now": both runs happen at the same frozen instant.
NOW = datetime(2026, 6, 15, 14, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def row_counts() -> dict[str, int]:
    labels = ("auth", "customers", "billing", "invoices", "presales")
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in labels and model._meta.managed
    }


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--force", stdout=out)
    return out.getvalue()


def test_it_loads_the_demo_once_and_changes_nothing_the_second_time():
    with time_machine.travel(NOW, tick=False):
        assert "Demo data ready" in seed()
        first = row_counts()
        seed()
        second = row_counts()

    assert second == first
    assert sorted(Customer.objects.values_list("code", flat=True)) == ["ACME", "BEIDOU", "NANHAI"]
    for customer in Customer.objects.all():
        assert check_tax_id(customer.tax_id).valid, customer.tax_id
        assert Contract.objects.filter(customer=customer, status="active").count() == 1
    assert ApiKey.objects.count() == Project.objects.count() == 6  # one key per demo project
    for username, password, _who in DEMO_LOGINS:
        assert authenticate(username=username, password=password) is not None, username
    assert PortalUser.objects.get(user__username="acme-admin").role == "admin"
    # invoices: issued ones, and one reversed by a red-letter invoice and issued again
    assert Invoice.objects.filter(color="blue", status="issued").exists()
    assert Invoice.objects.filter(color="blue", status="reversed").count() == 1
    assert Invoice.objects.filter(color="red").count() == 1


def test_it_refuses_without_force_when_debug_is_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", stdout=StringIO())
    assert not Customer.objects.exists()
