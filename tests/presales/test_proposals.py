"""Proposals: PROP-YYYY-NNNN numbers, versions that never change, the PDF's text, and
accept → customer and contract through the customers services."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from pypdf import PdfReader

from billing.models import SellerProfile
from customers.models import Contract, Customer
from presales.models import Proposal, ProposalTemplate, ProposalVersion
from tests.billing.helpers import SHANGHAI
from tests.factories import ContractFactory, CustomerFactory, valid_uscc
from tests.invoices.helpers import seller_profile
from tests.presales.conftest import ESTIMATES_URL, goods_request

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 5, 10, 0, tzinfo=SHANGHAI)
CHOOSE_MINI = [{"workload": "商品描述", "provider": "openai", "model": "gpt-4o-mini"}]
CHOOSE_4O = [{"workload": "商品描述", "provider": "openai", "model": "gpt-4o"}]


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def template(db):
    return ProposalTemplate.objects.create(
        name="标准条款",
        sla_text="月可用性 99.9%，未达标按比例减免服务费。",
        support_text="7×24 小时工单支持，P1 故障 30 分钟内响应。",
        terms_text="本方案为估算，按实际用量月结。",
    )


@pytest.fixture
def estimate_id(presales_client, price_book, usd_rate):
    return presales_client.post(ESTIMATES_URL, goods_request(), format="json").json()["id"]


def propose(client, estimate_id, chosen=CHOOSE_MINI, **fields):
    body = {"valid_until": "2026-12-31", "payment_terms_days": 45, "invoice_type": "special", "chosen": chosen}
    body.update(fields)
    return client.post(f"{ESTIMATES_URL}{estimate_id}/proposals/", body, format="json")


def test_the_first_proposal_of_the_year_is_prop_2026_0001(presales_client, estimate_id, template):
    response = propose(presales_client, estimate_id, notes="含 5% 月增长")

    assert response.status_code == 201, response.json()
    answer = response.json()
    assert (answer["number"], answer["version"]) == ("PROP-2026-0001", 1)
    assert answer["valid_until"] == "2026-12-31"
    assert answer["payment_terms_days"] == 45
    assert [c["model"] for c in answer["chosen"]] == ["gpt-4o-mini"]
    assert answer["monthly_amount"] == "2763.04"
    assert answer["monthly_total"] == "2928.82"  # + 165.78
    assert answer["sla_text"] == template.sla_text
    assert answer["notes"] == "含 5% 月增长"


def test_posting_again_makes_the_next_version_and_the_first_never_changes(presales_client, estimate_id, template):
    first = propose(presales_client, estimate_id).json()
    template.sla_text = "月可用性 99.95%。"
    template.save()

    second = propose(presales_client, estimate_id, chosen=CHOOSE_4O, payment_terms_days=30).json()
    third = propose(presales_client, estimate_id, valid_until="2027-01-31").json()

    assert (second["number"], second["version"]) == ("PROP-2026-0001", 2)
    assert third["version"] == 3
    assert second["sla_text"] == "月可用性 99.95%。"
    url = f"/api/v1/presales/proposals/{first['number']}/"
    again = presales_client.get(url, {"version": 1}).json()
    assert {k: v for k, v in again.items() if k != "versions"} == {k: v for k, v in first.items() if k != "versions"}
    assert again["versions"] == [1, 2, 3]
    assert presales_client.get(url).json()["version"] == 3
    assert presales_client.get(url, {"version": 2}).json()["chosen"][0]["model"] == "gpt-4o"
    assert presales_client.get(url, {"version": 4}).status_code == 404


def test_each_estimate_gets_the_next_number(presales_client, estimate_id, template):
    other = presales_client.post(ESTIMATES_URL, goods_request(prospect="另一家"), format="json").json()["id"]

    assert propose(presales_client, estimate_id).json()["number"] == "PROP-2026-0001"
    assert propose(presales_client, other).json()["number"] == "PROP-2026-0002"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"chosen": [{"workload": "商品描述", "provider": "openai", "model": "gpt-9"}]}, "chosen[0]"),
        ({"chosen": CHOOSE_MINI + CHOOSE_4O}, "chosen[1]"),
        ({"chosen": []}, "chosen"),
        ({"valid_until": "2026-11-04"}, "valid_until"),
        ({"payment_terms_days": -1}, "payment_terms_days"),
        ({"invoice_type": "blue"}, "invoice_type"),
    ],
)
def test_a_bad_proposal_is_a_400_naming_the_field(presales_client, estimate_id, change, field):
    response = propose(presales_client, estimate_id, **change)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Proposal.objects.count() == 0


def test_a_customer_user_cannot_propose_or_read(presales_client, alice_client, estimate_id, template):
    assert propose(alice_client, estimate_id).status_code == 403
    number = propose(presales_client, estimate_id).json()["number"]
    assert alice_client.get(f"/api/v1/presales/proposals/{number}/").status_code == 403
    assert alice_client.get(f"/api/v1/presales/proposals/{number}/pdf/").status_code == 403
    assert ProposalVersion.objects.count() == 1


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_pdf_shows_the_options_the_twelve_months_the_totals_and_the_terms(presales_client, estimate_id, template):
    number = propose(presales_client, estimate_id, chosen=CHOOSE_4O, notes="首月免费试用 7 天").json()["number"]

    response = presales_client.get(f"/api/v1/presales/proposals/{number}/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for expected in (
        "报价方案 PROP-2026-0001",
        "杭州云栖电商有限公司",
        "PROP-2026-0001",
        "商品描述",
        "openai/gpt-4o",
        "1,500,000",  # monthly requests: 50,000 a day × 30 days
        "¥46,050.60",
        "¥78,762.15",  # month 12
        "¥732,993.23",  # first year, before VAT
        "增值税专用发票",
        "月可用性 99.9%",
        "首月免费试用 7 天",
    ):
        assert expected in text, expected
    # First year: 732993.23 + VAT round_half_up(732993.23 × 0.06) = 43979.59 → 776972.82
    assert "¥776,972.82" in text
    assert "柒拾柒万陆仟玖佰柒拾贰圆捌角贰分" in text


def test_the_pdf_names_the_seller_in_force_and_the_unit_prices(presales_client, estimate_id, template):
    seller_profile()
    number = propose(presales_client, estimate_id, chosen=CHOOSE_4O).json()["number"]

    text = pdf_text(presales_client.get(f"/api/v1/presales/proposals/{number}/pdf/").content)

    assert "报价方：" in text and SellerProfile.objects.get().name in text
    assert "单价（每百万 tokens" in text
    # gpt-4o: USD 2.50 input, 1.25 cached, 10 output per million tokens
    assert any("openai/gpt-4o USD 2.50 1.25 10" in line for line in text.splitlines()), text


def test_the_pdf_of_an_earlier_version_is_that_version(presales_client, estimate_id, template):
    number = propose(presales_client, estimate_id, chosen=CHOOSE_4O).json()["number"]
    propose(presales_client, estimate_id, chosen=CHOOSE_MINI)

    first = pdf_text(presales_client.get(f"/api/v1/presales/proposals/{number}/pdf/", {"version": 1}).content)
    latest = pdf_text(presales_client.get(f"/api/v1/presales/proposals/{number}/pdf/").content)

    assert "openai/gpt-4o\n" in first or "openai/gpt-4o " in first
    assert "gpt-4o-mini" not in first
    assert "gpt-4o-mini" in latest


# --- Accept ----------------------------------------------------------------------------------


def accept(client, number, **fields):
    body = {
        "customer_code": "YUNQI",
        "tax_id": valid_uscc(7),
        "contract_number": "HT-YUNQI-2026",
        "starts_on": "2026-12-01",
    }
    body.update(fields)
    return client.post(f"/api/v1/presales/proposals/{number}/accept/", body, format="json")


def test_accept_makes_the_customer_and_a_draft_contract_from_the_terms(
    presales_client, finance_client, estimate_id, template
):
    number = propose(presales_client, estimate_id, payment_terms_days=45, invoice_type="ordinary").json()["number"]

    response = accept(presales_client, number)

    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["customer"]["code"] == "YUNQI"
    assert answer["customer"]["name"] == "杭州云栖电商有限公司"
    contract = Contract.objects.get(number="HT-YUNQI-2026")
    assert contract.status == Contract.Status.DRAFT
    assert (contract.starts_on, contract.ends_on) == (date(2026, 12, 1), date(2027, 11, 30))
    assert contract.payment_terms_days == 45
    assert contract.invoice_type == "ordinary"
    assert contract.discount_percent == Decimal("8")
    assert contract.vat_rate == Decimal("0.06")
    assert contract.price_currency == "USD"
    assert contract.fixed_exchange_rate == Decimal("7.1")  # the rate the proposal quoted (USD 2026-10)
    proposal = Proposal.objects.get(number=number)
    assert (proposal.customer, proposal.contract, proposal.accepted_version) == (contract.customer, contract, 1)
    seen = finance_client.get("/api/v1/customers/YUNQI/contracts/HT-YUNQI-2026/")
    assert seen.status_code == 200
    assert seen.json()["discount_percent"] == "8.00"
    assert presales_client.get(f"/api/v1/presales/proposals/{number}/").json()["contract"] == "HT-YUNQI-2026"


def test_accept_refuses_a_bad_uscc_and_writes_nothing(presales_client, estimate_id, template):
    number = propose(presales_client, estimate_id).json()["number"]

    response = accept(presales_client, number, tax_id="91310000123456789X")

    assert response.status_code == 400
    assert "tax_id" in response.json()["errors"]
    assert not Customer.objects.filter(code="YUNQI").exists()
    assert Proposal.objects.get(number=number).accepted_at is None


def test_accept_refuses_a_contract_overlapping_an_active_one(presales_client, estimate_id, template):
    customer = CustomerFactory(code="YUNQI", tax_id=valid_uscc(7))
    ContractFactory(customer=customer, number="HT-OLD", starts_on=date(2026, 1, 1), ends_on=None)
    number = propose(presales_client, estimate_id).json()["number"]

    response = accept(presales_client, number)

    assert response.status_code == 400
    assert "HT-OLD" in response.json()["errors"]["starts_on"][0]
    assert not Contract.objects.filter(number="HT-YUNQI-2026").exists()


def test_accept_twice_is_a_409_and_an_accepted_proposal_takes_no_new_version(presales_client, estimate_id, template):
    number = propose(presales_client, estimate_id).json()["number"]
    accept(presales_client, number)

    assert accept(presales_client, number, customer_code="YUNQI2", contract_number="HT-2").status_code == 409
    assert propose(presales_client, estimate_id).status_code == 409
    assert ProposalVersion.objects.count() == 1


def test_accept_gives_an_existing_customer_with_the_same_tax_id_a_new_contract(presales_client, estimate_id, template):
    customer = CustomerFactory(code="YUNQI", tax_id=valid_uscc(7))
    ContractFactory(customer=customer, number="HT-OLD", starts_on=date(2026, 1, 1), ends_on=date(2026, 11, 30))
    number = propose(presales_client, estimate_id).json()["number"]

    response = accept(presales_client, number)

    assert response.status_code == 201, response.json()
    assert Customer.objects.filter(code="YUNQI").count() == 1
    assert Contract.objects.get(number="HT-YUNQI-2026").customer == customer


def test_accept_refuses_an_existing_code_with_another_tax_id(presales_client, estimate_id, template):
    CustomerFactory(code="YUNQI", tax_id=valid_uscc(8))
    number = propose(presales_client, estimate_id).json()["number"]

    response = accept(presales_client, number)

    assert response.status_code == 400
    assert "customer_code" in response.json()["errors"]
    assert not Contract.objects.filter(number="HT-YUNQI-2026").exists()


def test_the_schema_documents_the_presales_routes(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    for path in (
        "/api/v1/presales/estimates/",
        "/api/v1/presales/estimates/{estimate_id}/",
        "/api/v1/presales/estimates/{estimate_id}/proposals/",
        "/api/v1/presales/proposals/{number}/",
        "/api/v1/presales/proposals/{number}/pdf/",
        "/api/v1/presales/proposals/{number}/accept/",
    ):
        assert path in paths, path
    assert paths["/api/v1/presales/estimates/"]["post"]["requestBody"]["content"]["application/json"]["examples"]
