"""The portal's "records (CSV)" links: each usage line of a bill and each row of the usage page
downloads the records behind it — the API's file, for the same readers (issue 20 item 7)."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.billing.test_record_exports import november_world, recomputed, rows_of
from tests.portal.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(acme, other_customer):
    return november_world(acme, other_customer)


def links(page) -> list[str]:
    return [unescape(href) for href in re.findall(r'class="records-csv" href="([^"]+)"', page.content.decode())]


def test_each_usage_line_of_a_bill_links_its_records(world, alice):
    portal = signed_in(alice)
    page = portal.get(f"/portal/bills/{world.number}/")
    usage = list(world.lines.filter(kind__in=("usage", "adjustment")).order_by("position"))

    assert links(page) == [f"/portal/bills/{world.number}/lines/{line.position}/records.csv" for line in usage]
    for line, href in zip(usage, links(page), strict=True):
        rows = rows_of(portal.get(href))
        assert len(rows) == line.requests
        assert recomputed(rows)[1] == line.amount.amount


def test_each_row_of_the_usage_page_links_its_records(world, bob):
    portal = signed_in(bob)  # a developer reads usage
    for group_by in ("model", "project", "api_key", "day"):
        page = portal.get(f"/portal/usage/?period=2026-11&group_by={group_by}")
        hrefs = links(page)
        assert len(hrefs) == len(page.context["summary"].rows) > 0
        for row, href in zip(page.context["summary"].rows, hrefs, strict=True):
            rows = rows_of(portal.get(href))
            assert len(rows) == row.requests
            assert recomputed(rows)[1] == row.cost


def test_a_developer_may_not_download_a_bills_records_and_another_customer_finds_none(world, bob, charlie):
    href = f"/portal/bills/{world.number}/lines/0/records.csv"

    assert signed_in(bob).get(href).status_code == 403
    assert signed_in(charlie).get(href).status_code == 404


def test_a_bad_row_key_shows_the_usage_form_with_the_error(world, alice):
    answer = signed_in(alice, language="en").get("/portal/usage/records.csv?period=2026-11&group_by=day&key=2026-10-31")

    assert answer.status_code == 400
    assert "Write the day as YYYY-MM-DD, in 2026-11." in answer.content.decode()
