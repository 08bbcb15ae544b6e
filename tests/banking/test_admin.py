"""The admin as finance uses it (Django test client, signed in as a clerk in group finance):
upload → preview (nothing written) → import; the unmatched list with likely bills, one-click
match and ignore with a reason; profiles and remembered payers; in Chinese and English."""

from __future__ import annotations

import pytest
from django.test import Client

from banking.models import BankStatement, BankTransaction, CsvProfile, PayerAccount
from billing.models import Bill, Payment
from tests.banking.conftest import FIXTURES
from tests.billing.close_helpers import shanghai, travel
from tests.factories import UserFactory

UPLOAD = "/admin/banking/bankstatement/add/"
UNMATCHED = "/admin/banking/banktransaction/unmatched/"


@pytest.fixture
def clerk_client(db, time_machine) -> Client:
    # The whole test happens on the statement's day: a staff session ends after an idle hour
    # (procurement.security), so signing in today and posting "on 2026-12-20" would sign out.
    time_machine.move_to(shanghai(2026, 12, 20, 3), tick=False)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(UserFactory(username="fiona", is_staff=True, groups=["finance"]))
    return client


def post_file(client, name: str, fmt: str, **fields):
    with open(FIXTURES / name, "rb") as handle, travel(2026, 12, 20):
        return client.post(UPLOAD, {"file": handle, "format": fmt, "action": "preview", **fields})


def test_it_previews_a_statement_without_writing_then_imports_it(ledger, clerk_client):
    page = clerk_client.get(UPLOAD)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="drop-zone"' in html and "banking/upload.js" in html
    assert "导入银行对账单" in html or "银行" in html

    preview = post_file(clerk_client, "cmb_2026-12-15.mt940", "mt940")
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "BILL-ACME-202611" in html and "BILL-OTHER-202611" in html  # what would match
    assert "UNKNOWN TRADING CO" in html
    assert BankStatement.objects.count() == 0 and BankTransaction.objects.count() == 0
    assert Payment.objects.count() == 0
    token = preview.context["form"]["token"].value()
    assert token

    with travel(2026, 12, 20):
        done = clerk_client.post(
            UPLOAD, {"token": token, "file_name": "cmb_2026-12-15.mt940", "format": "mt940", "action": "import"}
        )
    assert done.status_code == 302 and done["Location"] == UNMATCHED
    assert BankStatement.objects.get().file_name == "cmb_2026-12-15.mt940"
    assert Payment.objects.count() == 2
    assert Bill.objects.get(number="BILL-ACME-202611").status == Bill.Status.PAID


def test_it_previews_a_gbk_csv_with_a_saved_profile(ledger, clerk_client):
    profile = CsvProfile.objects.get(name="工商银行 ICBC")
    preview = post_file(clerk_client, "icbc_2026-12-17.csv", "csv", profile=profile.pk)
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "上海阿克米信息技术有限公司" in html and "BILL-ACME-202610" in html
    assert BankTransaction.objects.count() == 0


def test_a_bad_file_shows_the_error_beside_the_field(ledger, clerk_client):
    preview = post_file(clerk_client, "icbc_2026-12-17.csv", "mt940")
    assert preview.status_code == 200
    assert "MT940" in " ".join(preview.context["form"].errors["file"])
    assert BankStatement.objects.count() == 0


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_unmatched_list_suggests_bills_and_matches_in_one_click(ledger, clerk_client, finance_client, language):
    from tests.banking.conftest import csv_bytes, upload

    row = ["2026-12-19", "5300.00", "", "上海阿克米信息技术有限公司（上海）", "6217 0000 1111 2222", "服务费", "R-1"]
    upload(finance_client, csv_bytes([row]), "csv")
    txn = BankTransaction.objects.get(bank_reference="R-1")
    assert txn.status == "unmatched"  # the name is not exactly ACME's

    page = clerk_client.get(UNMATCHED, HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200
    (listed,) = page.context["rows"]
    suggested = [s["bill"].number for s in listed["suggestions"]]
    assert suggested[:2] == ["BILL-ACME-202610", "BILL-ACME-202611"]  # same balance, name alike, oldest first
    html = page.content.decode()
    assert ("匹配" if language == "zh-hans" else "Match") in html

    with travel(2026, 12, 20):
        response = clerk_client.post(UNMATCHED, {"action": "match", "transaction": txn.pk, "bills": "BILL-ACME-202610"})
    assert response.status_code == 302
    txn.refresh_from_db()
    assert txn.status == "matched"
    assert Bill.objects.get(number="BILL-ACME-202610").status == Bill.Status.PAID
    assert PayerAccount.objects.get().customer.code == "ACME"
    assert clerk_client.get(UNMATCHED).context["rows"] == []


def test_ignoring_from_the_list_needs_a_reason(ledger, clerk_client, finance_client):
    from tests.banking.conftest import csv_bytes, upload

    upload(finance_client, csv_bytes([["2026-12-19", "12.00", "", "某人", "", "利息", "R-2"]]), "csv")
    txn = BankTransaction.objects.get(bank_reference="R-2")
    clerk_client.post(UNMATCHED, {"action": "ignore", "transaction": txn.pk, "reason": ""})
    txn.refresh_from_db()
    assert txn.status == "unmatched"
    clerk_client.post(UNMATCHED, {"action": "ignore", "transaction": txn.pk, "reason": "结息"})
    txn.refresh_from_db()
    assert (txn.status, txn.reason) == ("ignored", "结息")
    # A match to a bill that does not exist says so and books nothing.
    response = clerk_client.post(UNMATCHED, {"action": "match", "transaction": txn.pk, "bills": "BILL-X"}, follow=True)
    assert "BILL-X" in response.content.decode()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_banking_admin_page_opens(ledger, clerk_client, finance_client, language):
    from tests.banking.conftest import upload

    upload(finance_client, "cmb_2026-12-15.mt940", "mt940")
    PayerAccount.objects.create(account="6217000011112222", customer=ledger.acme)
    pages = [
        "/admin/banking/",
        "/admin/banking/bankstatement/",
        f"/admin/banking/bankstatement/{BankStatement.objects.get().pk}/change/",
        "/admin/banking/banktransaction/",
        "/admin/banking/banktransaction/?status__exact=matched",
        f"/admin/banking/banktransaction/{BankTransaction.objects.first().pk}/change/",
        "/admin/banking/csvprofile/",
        f"/admin/banking/csvprofile/{CsvProfile.objects.first().pk}/change/",
        "/admin/banking/payeraccount/",
        "/admin/banking/payeraccount/add/",
        UPLOAD,
        UNMATCHED,
    ]
    for url in pages:
        assert clerk_client.get(url, HTTP_ACCEPT_LANGUAGE=language).status_code == 200, url


def test_a_payer_account_is_remembered_once(ledger, clerk_client):
    PayerAccount.objects.create(account="6217 0000 1111 2222", customer=ledger.acme)
    response = clerk_client.post(
        "/admin/banking/payeraccount/add/", {"account": "6217-0000-1111-2222", "customer": ledger.other.pk}
    )
    assert response.status_code == 200
    assert "account" in response.context["adminform"].form.errors
    assert PayerAccount.objects.count() == 1


def test_a_portal_user_or_anonymous_cannot_open_the_pages(ledger, alice):
    client = Client()
    assert client.get(UPLOAD).status_code == 302  # to the admin login
    client.force_login(alice)
    assert client.get(UNMATCHED).status_code in (302, 403)
