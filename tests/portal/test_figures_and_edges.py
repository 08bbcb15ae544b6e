"""A newcomer's rough edges (issue 25, item 10): portal figures say whether VAT is in them,
an invitation defaults to the least-privileged role, an overdue bill's status is said once,
the finance dashboard's open month shows its usage to date (marked), /favicon.ico answers,
and a plain 403 logs one line, no traceback."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from billing.models import Bill
from tests.portal.conftest import signed_in
from tests.workspace.html import parse, text

pytestmark = pytest.mark.django_db


def test_portal_figures_say_before_or_including_vat(alice, acme_world):
    client = signed_in(alice)
    home = client.get("/portal/").content.decode()
    usage = client.get("/portal/usage/").content.decode()
    bills = client.get("/portal/bills/").content.decode()
    bill = client.get(f"/portal/bills/{acme_world['bill'].number}/").content.decode()
    budgets = client.get("/portal/budgets/").content.decode()

    assert home.count('<span class="muted vat-note">不含税</span>') == 2  # spend so far, forecast
    assert '<span class="muted vat-note">不含税</span>' in usage and "费用（元，不含税）" in usage
    assert "合计（含税）" in bills
    assert "金额（不含税）" in bill
    assert "不含税" in budgets


def test_an_invitation_defaults_to_the_developer_role(alice):
    page = parse(signed_in(alice, "en").get("/portal/users/"))
    (invite_role,) = [
        select for select in page.iter("select") if select.get("name") == "role" and select.get("id") == "id_role"
    ]
    selected = [o.get("value") for o in invite_role.iter("option") if o.get("selected") is not None]
    assert selected == ["developer"]


def test_an_overdue_bill_says_so_once(alice, acme_world):
    bill = acme_world["bill"]
    Bill.objects.filter(pk=bill.pk).update(due_on=date(2026, 11, 4), status=Bill.Status.OVERDUE)
    client = signed_in(alice)

    listed = client.get("/portal/bills/").content.decode()
    shown = client.get(f"/portal/bills/{bill.number}/").content.decode()

    row = listed[listed.index(f'data-number="{bill.number}"') :]
    assert row[: row.index("</tr>")].count("已逾期") == 1
    status = shown[shown.index('id="bill-status"') :]
    assert status[: status.index("</dd>")].count("已逾期") == 1


def test_the_dashboard_shows_the_open_month_to_date_marked(finance_client, acme_usage, finance_user):
    from django.test import Client

    client = Client()
    client.force_login(finance_user)
    page = parse(client.get("/staff/"))
    cells = {td.get("data-period"): td for td in page.iter("td") if td.get("data-period")}
    this_month = cells["2026-11"]  # the clock of the portal tests: 5 November 2026
    assert "to-date" in (this_month.get("class") or "")
    assert text(this_month) != "¥0.00"
    headers = [text(th) for th in page.iter("th")]
    assert "2026-11（本月至今）" in headers
    assert "本月至今" in text(next(e for e in page.iter() if e.get("id") == "revenue-note"))


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_a_plain_403_logs_a_line_without_a_traceback(alice, caplog):
    client = signed_in(alice)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/staff/presales/")  # a portal user on the presales pages
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()  # a page in the reader's language, not a bare "403 Forbidden"
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    handler = next(h for h in logging.getLogger().handlers if h.filters)
    line = handler.format(record) if handler.filter(record) else ""
    assert "Forbidden" in line and "Traceback" not in line and "exception" not in line
