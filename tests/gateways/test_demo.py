"""The demo's new-api gateway (seed_demo): a logs table in the app's own database, NANHAI's
key mapped, one sync; seeding again the same day adds nothing."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine

from billing.models import UsageRecord
from gateways.demo import SOURCE, newapi_demo_seed
from gateways.models import GatewaySource
from tests.billing.helpers import SHANGHAI
from tests.factories import CustomerFactory, ProjectFactory, api_key_for

pytestmark = pytest.mark.django_db


def test_the_demo_gateway_is_synced_once_and_shows_its_watermark():
    nanhai = CustomerFactory(code="NANHAI")
    key, _secret = api_key_for(ProjectFactory(customer=nanhai, code="ops"))
    when = datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI)

    with time_machine.travel(when, tick=False):
        first = newapi_demo_seed()
        again = newapi_demo_seed()

    assert (first.read, first.accepted, first.unmapped, first.rejected) == (25, 25, 0, 0)
    assert (again.accepted, again.duplicates) == (0, 25)
    key.refresh_from_db()
    assert key.external_id == f"{SOURCE}:1"
    assert UsageRecord.objects.filter(api_key=key).count() == 25
    source = GatewaySource.objects.get(name=SOURCE)
    assert source.watermark <= int(when.timestamp()) and source.last_run_ok
