"""/portal/alerts/: the customer's alerts as GET /api/v1/alerts/ lists them, newest first,
filtered by kind and month, paged, each told in the reader's language from its facts."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from billing.models import Alert
from tests.portal.conftest import signed_in

pytestmark = pytest.mark.django_db


def alert(customer, n: int, *, kind="threshold", period=date(2026, 11, 1), amount="512.30", **fields) -> Alert:
    return Alert.objects.create(
        customer=customer,
        kind=kind,
        threshold=fields.pop("threshold", 50 if kind == "threshold" else None),
        period=period,
        amount=Decimal(amount),
        message="stored text in the language of the day",
        dedupe_key=f"test:{customer.pk}:{n}",
        **fields,
    )


def ids_on(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="alert-(\d+)" class="alert-row">', html)]


def test_the_feed_is_the_apis_feed_newest_first_in_the_readers_language(alice, alice_client, acme, other_customer):
    first = alert(acme, 1)
    second = alert(acme, 2, kind="anomaly", data={"scope": "customer", "day": "2026-11-03"})
    alert(other_customer, 3)
    zh = signed_in(alice).get("/portal/alerts/").content.decode()
    api = [a["id"] for a in alice_client.get("/api/v1/alerts/").json()]
    assert ids_on(zh) == api == [second.pk, first.pk]
    en = signed_in(alice, "en").get("/portal/alerts/").content.decode()
    row = re.search(rf'<tr id="alert-{first.pk}".*?</tr>', en, re.S).group(0)
    assert "ACME: ¥512.30 spent in 2026-11, past the 50% threshold." in row
    assert "stored text" not in en
    zh_row = re.search(rf'<tr id="alert-{first.pk}".*?</tr>', zh, re.S).group(0)
    assert "ACME：2026-11 已消费 ¥512.30，超过 50% 阈值。" in zh_row


def test_filters_by_kind_and_month_as_the_api_does(alice, alice_client, acme):
    october = alert(acme, 1, period=date(2026, 10, 1))
    november = alert(acme, 2)
    forecast = alert(acme, 3, kind="forecast")
    client = signed_in(alice)
    for query, expected in [
        ("kind=threshold", [november.pk, october.pk]),
        ("period=2026-10", [october.pk]),
        ("kind=forecast&period=2026-11", [forecast.pk]),
    ]:
        assert ids_on(client.get(f"/portal/alerts/?{query}").content.decode()) == expected
        assert [a["id"] for a in alice_client.get(f"/api/v1/alerts/?{query}").json()] == expected


@pytest.mark.parametrize(
    ("language", "query", "field", "message"),
    [
        ("en", "period=November", "period", "Write the period as YYYY-MM."),
        ("zh-hans", "period=November", "period", "YYYY-MM"),
        ("en", "kind=loud", "kind", "One of: threshold, forecast, anomaly."),
    ],
)
def test_a_bad_filter_is_shown_beside_its_field(alice, acme, language, query, field, message):
    alert(acme, 1)
    html = signed_in(alice, language).get(f"/portal/alerts/?{query}").content.decode()
    errors = re.search(rf'<div class="field has-error" id="field-{field}">.*?</div>', html, re.S).group(0)
    assert message in errors
    assert ids_on(html) == []


def test_the_feed_is_paged_twenty_at_a_time(alice, acme):
    made = [alert(acme, n) for n in range(45)]
    client = signed_in(alice, "en")
    first = client.get("/portal/alerts/?kind=threshold").content.decode()
    assert ids_on(first) == [a.pk for a in reversed(made)][:20]
    assert "Page 1 of 3" in first and 'href="?kind=threshold&amp;page=2"' in first
    last = client.get("/portal/alerts/?kind=threshold&page=3").content.decode()
    assert ids_on(last) == [a.pk for a in reversed(made)][40:]


def test_a_developer_reads_the_feed_and_charlie_sees_none_of_acmes(bob, charlie, acme):
    mine = alert(acme, 1)
    assert ids_on(signed_in(bob).get("/portal/alerts/").content.decode()) == [mine.pk]
    assert ids_on(signed_in(charlie).get("/portal/alerts/").content.decode()) == []
