"""Walking the main pages in Simplified Chinese (issue 25, item 9): no leftover English words
from a list of those found before, and money printed one way (¥1,234.50) — no "CN¥", no
"CNY" beside an amount, no amount over a thousand without its separator."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.portal.conftest import signed_in
from tests.workspace.html import parse

pytestmark = pytest.mark.django_db

# English words that were left in the Chinese pages (or would be, were a string to lose its
# translation): document links, bill states and close results, alert words, generic labels.
LEFTOVER = {
    "open",
    "download",
    "issued",
    "draft",
    "held",
    "paid",
    "overdue",
    "alert",
    "alerts",
    "balance",
    "total",
    "due",
    "customer",
    "period",
    "status",
    "amount",
    "reason",
    "none",
    "true",
    "false",
    "budget",
    "forecast",
    "threshold",
    "invoice",
    "payment",
    "month",
    "spend",
    "usage",
}
# Amounts: ¥ then digits with a comma every three; anything else that looks like money is a
# second format.
MONEY = re.compile(r"-?¥\d{1,3}(?:,\d{3})*\.\d{2}")
OTHER_MONEY = (
    re.compile(r"CN¥"),
    re.compile(r"\d+\.\d{2} ?CNY"),
    re.compile(r"¥\d{4,}"),  # no thousands separator
)


def visible_text(response) -> str:
    root = parse(response)
    for bad in list(root.iter("script")) + list(root.iter("style")):
        bad.clear()
    body = root.find(".//body")
    return " ".join(" ".join(body.itertext()).split())


def english_words(page: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z]{3,}", page)} & LEFTOVER


def pages(client: Client, urls: list[str]) -> dict[str, str]:
    out = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert response.headers["Content-Language"] == "zh-hans", url
        out[url] = visible_text(response)
    return out


def test_the_main_pages_in_chinese_have_no_leftover_english_and_one_money_format(alice, acme_world, finance_user):
    bill = acme_world["bill"]
    portal = signed_in(alice)
    staff = Client()
    staff.force_login(finance_user)
    staff.cookies["django_language"] = "zh-hans"
    portal_pages = pages(
        portal,
        [
            "/portal/",
            "/portal/usage/",
            "/portal/bills/",
            f"/portal/bills/{bill.number}/",
            "/portal/invoices/",
            "/portal/budgets/",
            "/portal/alerts/",
            "/portal/keys/",
            "/portal/users/",
        ],
    )
    staff_pages = pages(
        staff,
        [
            "/staff/",
            "/staff/reconciliation/",
            "/admin/",
            "/admin/billing/bill/",
            f"/admin/billing/bill/{bill.pk}/change/",
            "/admin/billing/bill/aging/",
            "/admin/billing/payment/",
            "/admin/invoices/invoice/",
            f"/admin/invoices/invoice/{acme_world['invoice'].pk}/change/",
            "/admin/billing/alert/",
            "/admin/billing/budget/",
            "/admin/billing/usagerollup/",
        ],
    )
    found = {}
    for url, page in {**portal_pages, **staff_pages}.items():
        words = english_words(page)
        others = [m.group(0) for pattern in OTHER_MONEY for m in pattern.finditer(page)]
        others += ["预警"] if "预警" in page else []  # one word for "alert": 告警
        if words or others:
            found[url] = (
                sorted(words),
                others[:5],
                [page[max(0, page.lower().find(w) - 60) : page.lower().find(w) + 30] for w in words],
            )
    assert found == {}
    assert any(MONEY.search(page) for page in portal_pages.values())
    aging = staff_pages["/admin/billing/bill/aging/"]
    assert "合计" in aging and "价税合计" not in aging  # open balances, not an invoice total
