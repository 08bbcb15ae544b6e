"""Fixtures for the metering tests: API keys of ACME and of another customer, a gpt-4o price."""

from __future__ import annotations

import pytest
from django.db import connection

from billing.models import PriceVersion
from customers.models import ApiKey
from tests.billing.helpers import price
from tests.factories import api_key_for


@pytest.fixture
def acme_key(acme_project) -> ApiKey:
    key, _secret = api_key_for(acme_project, name="production")
    return key


@pytest.fixture
def other_key(other_project) -> ApiKey:
    key, _secret = api_key_for(other_project, name="other")
    return key


@pytest.fixture
def gpt4o(db) -> PriceVersion:
    """openai/gpt-4o from 2026-01-01 (Shanghai): 2.5 input, 1.25 cached, 10 output USD per 1M tokens."""
    return price()


@pytest.fixture
def clean_usage(transactional_db):
    """For ``transaction=True`` tests: the partitioned record table is unmanaged, so the flush
    between transactional tests leaves its rows behind; empty it before and after."""

    def truncate():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE billing_usagerecord")

    truncate()
    yield
    truncate()
