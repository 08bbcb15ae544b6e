"""Shared fixtures. Authorization tests use three people, after healthchecks:
alice (admin of customer ACME), bob (developer at ACME), charlie (admin of another customer),
plus a finance clerk and the gateway."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from customers import services
from customers.models import PortalUser
from tests.factories import ContractFactory, CustomerFactory, ProjectFactory, UserFactory


def client_for(user) -> APIClient:
    _token, value = services.api_token_create(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {value}")
    return client


@pytest.fixture
def acme(db):
    customer = CustomerFactory(code="ACME", name="上海阿克米信息技术有限公司")
    ContractFactory(customer=customer, number="HT-ACME-1")
    return customer


@pytest.fixture
def other_customer(db):
    customer = CustomerFactory(code="OTHER", name="别家公司")
    ContractFactory(customer=customer, number="HT-OTHER-1")
    return customer


@pytest.fixture
def acme_project(acme):
    return ProjectFactory(customer=acme, code="chatbot", name="智能客服")


@pytest.fixture
def other_project(other_customer):
    return ProjectFactory(customer=other_customer, code="main", name="主项目")


def _portal_user(username, customer, role):
    user = UserFactory(username=username)
    PortalUser.objects.create(user=user, customer=customer, role=role)
    return user


@pytest.fixture
def alice(acme):
    return _portal_user("alice", acme, PortalUser.Role.ADMIN)


@pytest.fixture
def bob(acme):
    return _portal_user("bob", acme, PortalUser.Role.DEVELOPER)


@pytest.fixture
def charlie(other_customer):
    return _portal_user("charlie", other_customer, PortalUser.Role.ADMIN)


@pytest.fixture
def finance_user(db):
    return UserFactory(username="fiona", is_staff=True, groups=["finance"])


@pytest.fixture
def presales_user(db):
    return UserFactory(username="pete", is_staff=True, groups=["presales"])


@pytest.fixture
def finance_client(finance_user):
    return client_for(finance_user)


@pytest.fixture
def alice_client(alice):
    return client_for(alice)


@pytest.fixture
def bob_client(bob):
    return client_for(bob)


@pytest.fixture
def charlie_client(charlie):
    return client_for(charlie)


@pytest.fixture
def gateway_client(db):
    token, value = services.gateway_identity_create(name="test-gw")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {value}")
    return client


@pytest.fixture(autouse=True)
def _fresh_partition_cache():
    """Partitions created inside a rolled-back test transaction vanish; forget them."""
    from billing.metering.partitions import forget_known

    forget_known()
    yield
    forget_known()


# Rows the migrations seed, as a fresh install has them: (migration module, function).
MIGRATION_SEEDS = [
    ("billing.migrations.0004_seller_placeholder_and_schedule", "forwards"),  # the placeholder seller
    ("banking.migrations.0001_bank_statements_and_profiles", "seed_profiles"),  # the banks' CSV profiles
]


@pytest.fixture(autouse=True)
def _seeded_after_flush(request):
    """The flush after each transactional test empties every table, the migrations' seeded
    rows included, so a later transactional test would see less than a fresh install (a close
    without a seller profile in force holds its bills; the ICBC CSV profile is gone). Put
    them back (each seed is idempotent)."""
    marker = request.node.get_closest_marker("django_db")
    uses = set(request.fixturenames)
    if not ((marker and marker.kwargs.get("transaction")) or uses & {"transactional_db", "live_server"}):
        return
    import importlib

    from django.apps import apps

    request.getfixturevalue("transactional_db")
    for module, function in MIGRATION_SEEDS:
        getattr(importlib.import_module(module), function)(apps, None)
