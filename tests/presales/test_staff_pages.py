"""The staff pages under /staff/presales/: intake → estimate → proposal → PDF → accept, with
errors beside their fields, in Chinese by default; presales and finance only."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
import time_machine

from customers.models import Contract
from presales.models import Estimate, Proposal
from tests.billing.helpers import SHANGHAI
from tests.factories import valid_uscc

pytestmark = pytest.mark.django_db

INTAKE = "/staff/presales/"


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(datetime(2026, 11, 5, 10, 0, tzinfo=SHANGHAI), tick=False):
        yield


def intake_data(**workload) -> dict:
    data = {
        "prospect": "杭州云栖电商有限公司",
        "scenario": "商品描述生成",
        "days_per_month": "30",
        "monthly_growth_percent": "5",
        "discount_percent": "8",
        "fixed_exchange_rate": "",
        "vat_rate": "0.06",
        "as_of": "",
        "workloads-TOTAL_FORMS": "1",
        "workloads-INITIAL_FORMS": "0",
        "workloads-MIN_NUM_FORMS": "1",
        "workloads-MAX_NUM_FORMS": "20",
        "workloads-0-name": "商品描述",
        "workloads-0-basis": "daily",
        "workloads-0-volume": "50000",
        "workloads-0-input_tokens": "800",
        "workloads-0-output_tokens": "300",
        "workloads-0-cached_share": "0.3",
        "workloads-0-models": "openai/gpt-4o\nopenai/gpt-4o-mini",
    }
    data.update({f"workloads-0-{k}": v for k, v in workload.items()})
    return data


@pytest.fixture
def staff(client, presales_user):
    client.force_login(presales_user)
    return client


def test_the_intake_page_says_it_uses_daily_or_average_qps(staff):
    page = staff.get(INTAKE).content.decode()

    assert "平均 QPS" in page
    assert "86,400" in page
    assert "峰值" in page


def test_intake_makes_the_estimate_and_its_page_shows_the_api_figures(staff, price_book, usd_rate):
    response = staff.post(INTAKE, intake_data())

    assert response.status_code == 302
    estimate = Estimate.objects.get()
    page = staff.get(response["Location"]).content.decode()
    assert "50,000" in page and "× 30" in page and "= 1,500,000" in page  # daily × days = monthly
    assert "¥46,050.60" in page  # gpt-4o, as the API answers
    assert "¥2,763.04" in page
    assert "商品描述 → gpt-4o-mini" in page
    assert "<svg" in page
    assert "¥2,645.46" in page  # the 50 % caching lever
    assert "每新增读取 4 个 token 需一次 5 分钟缓存写入" in page  # its assumption, in Chinese
    assert "价目表中该模型没有批量价格：无批量措施。" in page  # gpt-4o-mini has no Batch prices here
    assert estimate.workloads.get().daily_requests == 50000


def test_the_estimate_page_shows_the_batch_lever_at_the_models_batch_prices(staff, usd_rate):
    from billing.pricing.services import price_version_set

    half = {"input_mtok": "0.625", "cache_read_mtok": "0.0625", "output_mtok": "5"}
    price_version_set(
        provider="openai",
        model="gpt-5",
        effective_from=datetime(2026, 1, 1, tzinfo=SHANGHAI),
        currency="USD",
        prices={"input_mtok": "1.25", "cache_read_mtok": "0.125", "output_mtok": "10"},
        variants=[{"when": {"processing": "batch"}, "prices": half}],
    )
    response = staff.post(INTAKE, intake_data(models="openai/gpt-5", cached_share="0"))
    page = staff.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()

    lever = page[page.index('class="batch-lever"') :]
    lever = lever[: lever.index("</table>")]
    # 1,500,000 calls × (800 × 1.25 + 300 × 10) / 10^6 = 6,000 USD × 0.92 × 7.1 = ¥39,192.00;
    # all through Batch at half the prices: ¥19,596.00, saving ¥19,596.00; half: ¥29,394.00.
    assert "¥39,192.00" in lever
    assert "¥29,394.00" in lever and "¥9,798.00" in lever
    assert "¥19,596.00" in lever
    assert "one 5-minute cache write for every 4 tokens newly read" in page


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"models": "openai/gpt-9"}, "workloads-0-models", "未知模型"),
        ({"volume": "-1"}, "workloads-0-volume", "大于或者等于 0"),
        ({"volume": "10.5"}, "workloads-0-volume", "整数"),
        ({"cached_share": "1.5"}, "workloads-0-cached_share", "小于或者等于 1"),
    ],
)
def test_a_bad_field_is_shown_beside_it_and_nothing_is_kept(staff, price_book, usd_rate, change, field, message):
    response = staff.post(INTAKE, intake_data(**change))

    assert response.status_code == 200
    page = response.content.decode()
    start = page.index(f'id="field-{field}"')
    beside = page[start : page.index("</div>", page.index("errorlist", start))]
    assert message in beside
    assert Estimate.objects.count() == 0


def test_a_missing_rate_is_shown_beside_the_fixed_rate(staff, price_book):
    page = staff.post(INTAKE, intake_data()).content.decode()

    start = page.index('id="field-fixed_exchange_rate"')
    assert "USD" in page[start : start + 800]
    assert "errorlist" in page[start : start + 800]
    assert Estimate.objects.count() == 0


def test_the_pages_speak_english_when_asked(staff, price_book, usd_rate):
    staff.post("/i18n/setlang/", {"language": "en", "next": INTAKE})

    page = staff.get(INTAKE).content.decode()

    assert "AVERAGE QPS" in page
    assert "Requirement intake" in page


def test_proposal_pdf_and_accept_from_the_pages(staff, price_book, usd_rate):
    estimate_url = staff.post(INTAKE, intake_data())["Location"]
    estimate = Estimate.objects.get()
    mini = estimate.options.get(model="gpt-4o-mini")

    response = staff.post(
        estimate_url,
        {"valid_until": "2026-12-31", "payment_terms_days": "30", "invoice_type": "special", "chosen": [mini.pk]},
    )

    assert response.status_code == 302
    proposal = Proposal.objects.get()
    assert response["Location"] == f"/staff/presales/proposals/{proposal.number}/"
    page = staff.get(response["Location"]).content.decode()
    assert "v1" in page and "¥2,928.82" in page
    pdf = staff.get(f"/staff/presales/proposals/{proposal.number}/pdf/?version=1&download=1")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'attachment; filename="{proposal.number}-v1.pdf"'
    assert pdf.content.startswith(b"%PDF")

    bad = staff.post(
        f"/staff/presales/proposals/{proposal.number}/accept/",
        {"customer_code": "YUNQI", "tax_id": "123", "contract_number": "HT-Y-1", "starts_on": "2026-12-01"},
    )
    assert bad.status_code == 200
    assert 'id="field-tax_id"' in bad.content.decode()
    assert not Contract.objects.filter(number="HT-Y-1").exists()

    good = staff.post(
        f"/staff/presales/proposals/{proposal.number}/accept/",
        {"customer_code": "YUNQI", "tax_id": valid_uscc(9), "contract_number": "HT-Y-1", "starts_on": "2026-12-01"},
    )
    assert good.status_code == 302
    proposal.refresh_from_db()
    assert proposal.contract.number == "HT-Y-1"
    accepted = staff.get(good["Location"]).content.decode()
    assert "HT-Y-1" in accepted
    # A presales engineer may not open customers in the admin: no link there to a bare 403.
    assert "/admin/customers/customer/" not in accepted
    assert "YUNQI" in accepted


def test_a_proposal_without_a_choice_is_refused_beside_the_field(staff, price_book, usd_rate):
    estimate_url = staff.post(INTAKE, intake_data())["Location"]

    response = staff.post(
        estimate_url, {"valid_until": "2026-12-31", "payment_terms_days": "30", "invoice_type": "special"}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "errorlist" in page[page.index('id="field-chosen"') :][:2000]
    assert Proposal.objects.count() == 0


def test_access_signed_out_to_login_portal_user_403_finance_allowed(client, alice, finance_user):
    assert client.get(INTAKE)["Location"].startswith("/admin/login/")
    client.force_login(alice)
    assert client.get(INTAKE).status_code == 403
    client.force_login(finance_user)
    assert client.get(INTAKE).status_code == 200


def test_an_average_qps_is_turned_into_daily_requests_on_the_page(staff, price_book, usd_rate):
    response = staff.post(INTAKE, intake_data(basis="qps", volume="2.5"))

    assert response.status_code == 302
    workload = Estimate.objects.get().workloads.get()
    assert (workload.daily_requests, workload.average_qps) == (None, Decimal("2.5"))
    page = staff.get(response["Location"]).content.decode()
    assert "216,000" in page  # 2.5 × 86,400 a day
    assert "= 6,480,000" in page  # × 30 days
