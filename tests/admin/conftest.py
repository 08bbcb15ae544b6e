"""The admin as finance staff use it: a clerk in group ``finance`` (not a superuser), signed
in through Django's session, on ACME's issued October bill (tests/invoices/conftest.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory
from tests.invoices.conftest import _media, _november, acme_bill, seller  # noqa: F401


@pytest.fixture
def clerk(db):
    return UserFactory(username="fiona", is_staff=True, groups=["finance"])


@pytest.fixture
def clerk_client(clerk) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(clerk)
    return client
