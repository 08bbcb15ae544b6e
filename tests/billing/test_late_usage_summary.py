"""Late usage of a billed month (issue 25 item 2): the usage summary of a closed period
counts what its bill carried and, apart, what arrived after the close (``late``: billed on
a later bill as an adjustment); the open period shows the adjustments it will carry; the
portal says both, in Chinese and in English."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client

from billing.models import BillLine
from tests.billing.close_helpers import DEC, NOV, ingest, key_for, only, price, record, shanghai
from tests.billing.close_helpers import close as month_close

pytestmark = pytest.mark.django_db

URL = "/api/v1/usage-summary/"


@pytest.fixture
def billed_november(acme, time_machine):
    """ACME's November billed on 2 December (¥1.00 + ¥2.50 of CNY-priced usage), then on
    3 December a call of 28 November arrives late (¥0.75)."""
    price("lab-1", provider="lab", input="1000", cached=None, output="0", currency="CNY")
    key = key_for(acme)
    time_machine.move_to(shanghai(2026, 11, 30, 10), tick=False)
    ingest(
        record(key, model="lab-1", provider="lab", input=1000, at=shanghai(2026, 11, 10, 9)),
        record(key, model="lab-1", provider="lab", input=2500, at=shanghai(2026, 11, 11, 9)),
    )
    time_machine.move_to(shanghai(2026, 12, 2, 10), tick=False)
    bill = only(month_close(acme, NOV, today=date(2026, 12, 2)))
    time_machine.move_to(shanghai(2026, 12, 3, 10), tick=False)
    ingest(record(key, model="lab-1", provider="lab", input=750, at=shanghai(2026, 11, 28, 9)))
    return bill


def summary(client, period: str, **params) -> dict:
    return client.get(URL, {"customer": "ACME", "period": period, **params}).json()


@pytest.mark.parametrize("group_by", ["model", "project", "api_key", "day"])
def test_a_closed_month_shows_what_its_bill_carried_and_the_late_usage_apart(finance_client, billed_november, group_by):
    answer = summary(finance_client, "2026-11", group_by=group_by)

    assert answer["closed"] is True
    assert answer["total"] == "3.50" == f"{billed_november.subtotal.amount:.2f}"
    assert sum(row["requests"] for row in answer["rows"]) == 2
    assert {k: answer["late"][k] for k in ("requests", "cost", "bill")} == {"requests": 1, "cost": "0.75", "bill": None}


def test_the_open_month_shows_the_adjustment_it_will_carry(finance_client, billed_november):
    answer = summary(finance_client, "2026-12")

    assert (answer["closed"], answer["rows"], answer["total"]) == (False, [], "0.00")
    assert answer["adjustments"] == [
        {
            "period": "2026-11",
            "project": "chatbot",
            "provider": "lab",
            "model": "lab-1",
            "variant": "standard",
            "requests": 1,
            "amount": "0.75",
        }
    ]


def test_once_the_later_bill_is_issued_late_names_it(finance_client, acme, billed_november, time_machine):
    time_machine.move_to(shanghai(2027, 1, 2, 10), tick=False)
    december = only(month_close(acme, DEC, today=date(2027, 1, 2)))
    (line,) = december.lines.filter(kind=BillLine.Kind.ADJUSTMENT)

    late = summary(finance_client, "2026-11")["late"]

    assert f"{line.amount.amount:.2f}" == late["cost"] == "0.75"
    assert late["bill"] == december.number == "BILL-ACME-202612"
    assert late["parts"] == [{"bill_period": "2026-12", "requests": 1, "cost": "0.75", "bill": "BILL-ACME-202612"}]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "Arrived after the close — billed on BILL-ACME-202612 as an adjustment: ¥0.75 (requests: 1)."),
        ("zh-hans", "结账后到达 — 已作为调整项计入 BILL-ACME-202612：¥0.75（调用次数：1）。"),
    ],
)
def test_the_portal_says_where_the_late_usage_is_billed(acme, alice, billed_november, time_machine, language, words):
    time_machine.move_to(shanghai(2027, 1, 2, 10), tick=False)
    month_close(acme, DEC, today=date(2027, 1, 2))
    portal = Client()
    portal.force_login(alice)

    html = portal.get("/portal/usage/", {"period": "2026-11"}, HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert re.search(r'id="usage-total">¥3\.50<', html)
    late = re.search(r'<div class="notice" id="late-usage">(.*?)</div>', html, re.S).group(1)
    assert words in late


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "Adjustments this month's bill will carry"), ("zh-hans", "本月账单将附带的调整项")],
)
def test_the_portal_shows_the_open_months_adjustments(alice, billed_november, language, words):
    portal = Client()
    portal.force_login(alice)

    html = portal.get("/portal/usage/", {"period": "2026-12"}, HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert words in html
    row = re.search(r'<table class="data" id="adjustments-table">.*?<tr data-period="2026-11">(.*?)</tr>', html, re.S)
    assert "lab-1" in row.group(1) and "¥0.75" in row.group(1)
