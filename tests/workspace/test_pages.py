"""The staff pages: who may open them, the figures they show (equal to the API's and the
selectors'), the upload form, and the CSV/XLSX exports (equal to the page)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from billing.models import Alert, Bill
from tests.billing.close_helpers import NOV, travel
from tests.conftest import client_for
from tests.workspace.helpers import november_usage, openai_costs, provider_exports
from tests.workspace.html import by_id, money, one_by_class, parse, rows, text
from workspace.models import ProviderCost
from workspace.services import provider_costs_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance_browser(client, finance_user):
    client.force_login(finance_user)
    return client


# --- access --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/staff/", "/staff/reconciliation/"])
def test_it_sends_a_signed_out_visitor_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={url}"


@pytest.mark.parametrize("url", ["/staff/", "/staff/reconciliation/"])
def test_it_refuses_presales_staff_and_portal_users(client, presales_user, alice, url):
    for user in (presales_user, alice):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 403
        assert by_id(parse(response), "forbidden-message") is not None


@pytest.mark.parametrize("url", ["/staff/", "/staff/reconciliation/"])
def test_finance_and_superusers_open_them(client, finance_user, django_user_model, url):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-2026-root")
    for user in (finance_user, root):
        client.force_login(user)
        assert client.get(url).status_code == 200


def test_it_speaks_chinese_by_default_and_english_when_asked(finance_browser):
    page = parse(finance_browser.get("/staff/"))
    assert page.get("lang") == "zh-hans"
    assert "应收账款账龄" in text(page)
    finance_browser.post("/i18n/setlang/", {"language": "en", "next": "/staff/"})
    page = parse(finance_browser.get("/staff/"))
    assert page.get("lang") == "en"
    assert "Receivables aging" in text(page)


def test_the_api_refuses_everyone_but_finance(presales_user, alice):
    for user in (presales_user, alice):
        response = client_for(user).get("/api/v1/reconciliation/?period=2026-11")
        assert response.status_code == 403
        assert set(response.json()) == {"detail", "errors"}


# --- reconciliation: page = API = exports ----------------------------------------------------


@pytest.fixture
def november(finance_user):
    november_usage()
    provider_exports(actor=finance_user)
    with travel(2026, 12, 5):
        yield


def test_the_api_answers_the_selectors_figures(november, finance_client):
    with travel(2026, 12, 5):
        body = finance_client.get("/api/v1/reconciliation/?period=2026-11").json()
    assert body["period"] == "2026-11" and body["currency"] == "CNY"
    assert body["totals"] == {
        "cost": "93.01",
        "revenue": "132.42",
        "other_revenue": "0.00",
        "margin": "39.41",
        "margin_percent": "29.76",
    }
    gpt = next(row for row in body["models"] if row["model"] == "gpt-4o")
    assert gpt["metered"]["input_tokens"] == 4_000_000
    assert gpt["provider_usage"]["input_tokens"] == 4_020_000
    assert (gpt["cost"], gpt["revenue"], gpt["margin"], gpt["margin_percent"]) == ("71.00", "99.40", "28.40", "28.57")
    assert gpt["token_difference_percent"] == "-0.50" and gpt["disagrees"] is False
    assert [row["model"] for row in body["disagreements"]] == ["gpt-4o-mini"]
    acme_gpt = next(r for r in body["customers"] if (r["customer"], r["model"]) == ("ACME", "gpt-4o"))
    assert (acme_gpt["cost"], acme_gpt["margin"], acme_gpt["margin_percent"]) == ("15.98", "8.87", "35.69")


def test_without_provider_data_it_claims_no_cost_margin_or_agreement(finance_user, finance_browser, finance_client):
    november_usage()  # our metering and issued bills, no provider export imported
    with travel(2026, 12, 5):
        body = finance_client.get("/api/v1/reconciliation/?period=2026-11").json()
        page = parse(finance_browser.get("/staff/reconciliation/?period=2026-11"))
    assert body["provider_cost_imported"] is False and body["provider_usage_imported"] is False
    assert body["totals"] == {
        "cost": None,
        "revenue": "132.42",
        "other_revenue": "0.00",
        "margin": None,
        "margin_percent": None,
    }
    assert "本期未导入供应商成本" in text(by_id(page, "no-provider-cost"))  # no provider cost imported
    for figure in ("total-cost", "total-margin", "total-margin-percent"):
        assert text(by_id(page, figure)) == "—"
    assert text(by_id(page, "total-revenue")) == "¥132.42"
    agreement = text(by_id(page, "agreement"))
    assert "未作任何比对" in agreement and "一致" not in agreement  # nothing compared, no agreement claimed


def test_a_provider_without_cost_is_named_and_its_usage_not_called_agreeing(finance_user, finance_browser):
    november_usage()
    provider_costs_import(
        provider="openai",
        file_name="costs.json",
        content=openai_costs((10, "gpt-4o, input", "9.0")),
        actor=finance_user,
    )
    with travel(2026, 12, 5):
        page = parse(finance_browser.get("/staff/reconciliation/?period=2026-11"))
    assert by_id(page, "no-provider-cost") is None
    assert "anthropic/claude-sonnet-4" in text(by_id(page, "uncosted"))
    assert "未作任何比对" in text(by_id(page, "agreement"))


def test_the_api_names_a_bad_period(finance_client):
    response = finance_client.get("/api/v1/reconciliation/?period=2026-13")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["period"]


def page_models(page) -> dict:
    out = {}
    for tr in rows(page, "models", "data-model"):
        out[tr.get("data-model")] = {
            "cost": money(text(one_by_class(tr, "cost"))),
            "revenue": money(text(one_by_class(tr, "revenue"))),
            "margin": money(text(one_by_class(tr, "margin"))),
            "flag": "flag" in (tr.get("class") or "").split(),
        }
    return out


def test_the_page_shows_the_apis_figures(november, finance_browser, finance_client):
    with travel(2026, 12, 5):
        page = parse(finance_browser.get("/staff/reconciliation/?period=2026-11"))
        body = finance_client.get("/api/v1/reconciliation/?period=2026-11").json()
    shown = page_models(page)
    for row in body["models"]:
        figures = shown[f"{row['provider']}/{row['model']}"]
        assert figures["cost"] == Decimal(row["cost"])
        assert figures["revenue"] == Decimal(row["revenue"])
        assert figures["margin"] == Decimal(row["margin"])
        assert figures["flag"] is row["disagrees"]
    assert money(text(by_id(page, "total-margin"))) == Decimal(body["totals"]["margin"])
    assert text(by_id(page, "total-margin-percent")) == "29.76 %"
    customer_rows = rows(page, "customers", "data-row")
    assert len(customer_rows) == len(body["customers"]) == 4
    for tr in customer_rows:
        customer, _provider, model = tr.get("data-row").split("/")
        api = next(r for r in body["customers"] if (r["customer"], r["model"]) == (customer, model))
        assert money(text(one_by_class(tr, "margin"))) == Decimal(api["margin"])
        assert money(text(one_by_class(tr, "cost"))) == Decimal(api["cost"])
    assert [tr.get("data-model") for tr in rows(page, "disagreements", "data-model")] == ["openai/gpt-4o-mini"]
    assert by_id(page, "allocation-assumption") is not None
    assert by_id(page, "chart").find(".//{http://www.w3.org/2000/svg}svg") is not None


def test_the_csv_and_xlsx_hold_the_pages_figures(november, finance_browser):
    with travel(2026, 12, 5):
        page = parse(finance_browser.get("/staff/reconciliation/?period=2026-11"))
        csv_response = finance_browser.get("/staff/reconciliation/?period=2026-11&table=models&format=csv")
        xlsx_response = finance_browser.get("/staff/reconciliation/?period=2026-11&table=models&format=xlsx")
    shown = page_models(page)
    written = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert len(written) == 1 + len(shown)
    for row in written[1:]:
        figures = shown[f"{row[0]}/{row[1]}"]
        assert (Decimal(row[11]), Decimal(row[12]), Decimal(row[13])) == (
            figures["cost"],
            figures["revenue"],
            figures["margin"],
        )
    sheet = load_workbook(io.BytesIO(xlsx_response.content)).active
    xlsx_rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(xlsx_rows) == len(shown)
    for row in xlsx_rows:
        figures = shown[f"{row[0]}/{row[1]}"]
        assert isinstance(row[12], (int, float))  # a number Excel can sum
        assert Decimal(str(row[11])) == figures["cost"]
        assert Decimal(str(row[12])) == figures["revenue"]


def test_the_customer_csv_has_every_customer_row(november, finance_browser):
    with travel(2026, 12, 5):
        page = parse(finance_browser.get("/staff/reconciliation/?period=2026-11"))
        response = finance_browser.get("/staff/reconciliation/?period=2026-11&table=customers&format=csv")
    written = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    shown = {tr.get("data-row"): money(text(one_by_class(tr, "margin"))) for tr in rows(page, "customers", "data-row")}
    assert {f"{r[0]}/{r[2]}/{r[3]}": Decimal(r[7]) for r in written[1:]} == shown


# --- upload form and API --------------------------------------------------------------------


def test_the_upload_form_imports_and_lists_bad_rows(finance_browser):
    content = (
        b"start_time,end_time,amount_value,amount_currency,line_item\n"
        b'1794268800,1794355200,1.5,usd,"gpt-4o, input"\n'
        b'1794268800,1794355200,x,usd,"gpt-4o, output"\n'
    )
    response = finance_browser.post(
        "/staff/reconciliation/?period=2026-11",
        {"provider": "openai", "file": SimpleUploadedFile("costs.csv", content, content_type="text/csv")},
        follow=True,
    )
    assert response.status_code == 200
    page = parse(response)
    assert ProviderCost.objects.get(model="gpt-4o").cost == Decimal("1.5")
    errors = [
        [text(td) for td in tr.findall("td")] for tr in by_id(page, "import-errors").iter("tr") if tr.findall("td")
    ]
    assert [(e[0], e[1]) for e in errors] == [("3", "amount_value")]


def test_the_upload_form_says_beside_the_field_what_is_wrong(finance_browser):
    response = finance_browser.post(
        "/staff/reconciliation/",
        {"provider": "openai", "file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n", content_type="text/csv")},
    )
    assert response.status_code == 400
    assert "start_time" in text(by_id(parse(response), "errors-file"))
    assert ProviderCost.objects.count() == 0


def test_the_import_api_takes_a_file_and_answers_its_bad_rows(finance_client):
    content = openai_costs((10, "gpt-4o-2024-08-06, input", "2.0"), (10, "", "1.0"))
    response = finance_client.post(
        "/api/v1/provider-costs/imports/",
        {"provider": "openai", "file": SimpleUploadedFile("c.json", content)},
        format="multipart",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["row_count"] == 1 and body["kind"] == "openai_costs"
    assert body["errors"] == [
        {"line": None, "location": "data[0].results[1]", "field": "line_item", "message": body["errors"][0]["message"]}
    ]


def test_the_import_api_names_the_wrong_fields(finance_client):
    response = finance_client.post("/api/v1/provider-costs/imports/", {"provider": "google"}, format="multipart")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"provider", "file"}
    response = finance_client.post(
        "/api/v1/provider-costs/imports/",
        {"provider": "openai", "file": SimpleUploadedFile("c.json", b"{nope")},
        format="multipart",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["file"]


# --- dashboard ---------------------------------------------------------------------------


def test_the_dashboard_shows_the_figures_of_the_apis(november, client, finance_user, finance_client):
    acme_bill = Bill.objects.get(customer__code="ACME", period=NOV)
    acme_bill.confirmation = Bill.Confirmation.DISPUTED
    acme_bill.confirmation_note = "数量不符"
    acme_bill.save()
    for day, key in ((18, "recent"), (12, "older-than-a-week")):
        with travel(2027, 1, day):
            Alert.objects.create(
                customer=acme_bill.customer,
                kind=Alert.Kind.THRESHOLD,
                threshold=80,
                period=NOV,
                amount=Decimal("80.00"),
                message="m",
                dedupe_key=key,
            )
    with travel(2027, 1, 20):  # December bills not closed; November's due 30 days after 1 Dec
        client.force_login(finance_user)
        page = parse(client.get("/staff/"))
        aging = finance_client.get("/api/v1/receivables/aging/").json()
        revenue = finance_client.get("/api/v1/revenue/?period=2026-11").json()
    assert money(text(by_id(page, "fig-receivables"))) == Decimal(aging["totals"]["total"])
    aging_rows = {tr.get("data-customer"): tr for tr in rows(page, "aging", "data-customer")}
    assert set(aging_rows) == {row["customer"] for row in aging["rows"]} == {"ACME", "BEIDOU"}
    for row in aging["rows"]:
        assert money(text(one_by_class(aging_rows[row["customer"]], "total"))) == Decimal(row["total"])
    november_revenue = sum(Decimal(r["amount"]) for r in revenue["rows"])
    assert november_revenue == Decimal("132.42")
    months = {td.get("data-period"): td for td in by_id(page, "revenue").iter("td") if td.get("data-period")}
    assert len(months) == 12 and "2026-02" in months and "2027-01" in months
    assert money(text(months["2026-11"])) == november_revenue
    assert text(by_id(page, "fig-overdue")) == "2"  # both November bills, due 31 Dec
    assert "数量不符" in text(by_id(page, "disputed"))
    assert text(by_id(page, "fig-disputed")) == "1"
    (alert_row,) = rows(page, "alerts", "data-alert")
    assert "80%" in text(alert_row) and "ACME" in text(alert_row)
    assert by_id(page, "close-issued").get("data-count") == "0"  # December is not closed yet


def test_the_dashboard_lists_held_drafts_with_the_fix_and_month_to_date_usage(finance_browser, finance_client):
    from tests.billing.close_helpers import (
        close,
        customer_with_contract,
        ingest,
        key_for,
        price,
        rate,
        record,
        shanghai,
    )

    price()
    rate(NOV, "7.1")
    acme = customer_with_contract("ACME")
    key = key_for(acme)
    ingest(
        record(key, input=1_000_000, output=100_000, at=shanghai(2026, 11, 10, 12)),
        record(key, model="acme-finetune-v2", input=10, at=shanghai(2026, 11, 10, 12)),
        record(key, input=2_000_000, at=shanghai(2026, 12, 2, 12)),
        now=shanghai(2026, 12, 2, 13),
    )
    with travel(2026, 12, 1, 1):
        close(acme)
    with travel(2026, 12, 3, 9):
        page = parse(finance_browser.get("/staff/"))
        usage = finance_client.get("/api/v1/usage-summary/?customer=ACME&period=2026-12").json()
    (held,) = rows(page, "held", "data-bill")
    links = [a.get("href") for a in held.iter("a") if "/admin/billing/priceversion/add/" in a.get("href")]
    assert len(links) == 1 and "model=acme-finetune-v2" in links[0]
    assert text(by_id(page, "fig-held")) == "1"
    assert by_id(page, "close-held").get("data-count") == "1"
    (acme_usage,) = rows(page, "usage", "data-customer")
    shown = money(text(one_by_class(acme_usage, "cost")))
    assert shown == sum(Decimal(r["cost"]) for r in usage["rows"])
    assert shown == Decimal("35.50")  # 2,000,000 × $2.5 / 1M = $5 × 7.1 (latest rate)


def test_a_bad_period_on_the_page_is_named_beside_its_field(finance_browser):
    response = finance_browser.get("/staff/reconciliation/?period=11-2026")
    assert response.status_code == 400  # named, and a 400 (issue 21)
    page = parse(response)
    assert "YYYY-MM" in text(by_id(page, "errors-period"))
