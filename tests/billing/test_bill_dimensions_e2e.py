"""Issue 20, "Done when": an issued bill shows cache writes, the long-context price and a Batch
line correctly, and its totals equal the usage summary to the fen.

ACME's November 2026 (discount 5 %, USD at 7.1456, VAT 6 %), priced from the price book
``import_prices`` makes from the installed genai-prices, project ``agent``:

claude-sonnet-4-5 (3 input, 0.30 cache read, 3.75 5-minute write, 6 1-hour write, 15
output USD per 1M; above 200,000 input tokens the whole request at 6 / 0.60 / 7.50 / 12 /
22.50):
  R1 100,000 in (40,000 read, 15,000 5m write), 2,000 out:
     45,000 × 3 + 40,000 × 0.3 + 15,000 × 3.75 + 2,000 × 15   = 233,250 → 0.23325
  R2 120,000 in (50,000 read, 20,000 1h write), 3,000 out:
     50,000 × 3 + 50,000 × 0.3 + 20,000 × 6 + 3,000 × 15      = 330,000 → 0.33
  R3 250,000 in (100,000 read, 20,000 5m + 10,000 1h write), 4,000 out — above the tier:
     120,000 × 6 + 100,000 × 0.6 + 20,000 × 7.5 + 10,000 × 12 + 4,000 × 22.5
                                                              = 1,140,000 → 1.14
  R4 200,000 in, 1,000 out — at the tier start, not above it:
     200,000 × 3 + 1,000 × 15                                 = 615,000 → 0.615
  R5 200,001 in — above: 200,001 × 6                          = 1,200,006 → 1.200006
  Σ 3.518256 USD × 7.1456 = 25.1400500736 × 0.95 = 23.88304756992 → 23.88

gpt-5 standard (1.25 input, 0.125 cache read, 10 output per 1M, 10 per 1,000 web searches):
  R6 1,000,000 in (200,000 read), 100,000 out, 5 searches:
     800,000 × 1.25 + 200,000 × 0.125 + 100,000 × 10 = 2,025,000 → 2.025 + 5 × 10 / 1,000 = 0.05 → 2.075
  R7 400,000 in, 50,000 out, 2 searches: 0.5 + 0.5 + 0.02    = 1.02
  Σ 3.095 USD × 7.1456 = 22.115632 × 0.95 = 21.0098504 → 21.01

gpt-5 Batch (0.625 input, 0.0625 cache read, 5 output):
  R8 2,000,000 in, 300,000 out: 1.25 + 1.5                   = 2.75
  R9 600,000 in (100,000 read), 20,000 out:
     500,000 × 0.625 + 100,000 × 0.0625 + 20,000 × 5 = 418,750 → 0.41875
  Σ 3.16875 USD × 7.1456 = 22.64262 × 0.95 = 21.510489 → 21.51

Subtotal 23.88 + 21.01 + 21.51 = 66.40; VAT 3.984 → 3.98; total 70.38.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from genai_prices import data_snapshot
from genai_prices.types import Usage

from billing.bills.documents import bill_render_pdf
from billing.bills.summary import usage_summary
from billing.models import Bill, BillLine, UsageRecord
from billing.pricing.cost import COUNT_FIELDS
from billing.pricing.pricebook import prices_import
from invoices.services import invoice_issue
from tests.billing.close_helpers import NOV, close, ingest, key_for, only, rate, set_terms, shanghai, travel
from tests.billing.test_bill_pdf import pdf_text
from tests.invoices.helpers import seller_profile
from tests.portal.conftest import signed_in

pytestmark = pytest.mark.django_db

RATE = Decimal("7.1456")
FACTOR = Decimal("0.95")
CENT = Decimal("0.01")

SONNET = [  # (input, cache read, 5m write, 1h write, output)
    (100_000, 40_000, 15_000, 0, 2_000),
    (120_000, 50_000, 0, 20_000, 3_000),
    (250_000, 100_000, 20_000, 10_000, 4_000),
    (200_000, 0, 0, 0, 1_000),
    (200_001, 0, 0, 0, 0),
]
GPT5 = [  # (input, cache read, output, web searches, processing)
    (1_000_000, 200_000, 100_000, 5, "standard"),
    (400_000, 0, 50_000, 2, "standard"),
    (2_000_000, 0, 300_000, 0, "batch"),
    (600_000, 100_000, 20_000, 0, "batch"),
]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def sonnet_record(key, n, input, read, write_5m, write_1h, output):
    return {
        "request_id": f"sonnet-{n}",
        "key_id": key.key_id,
        "provider": "anthropic",
        "model": "claude-sonnet-4-5",
        "input_tokens": input,
        "cache_read_tokens": read,
        "cache_write_tokens": write_5m + write_1h,
        "cache_write_5m_tokens": write_5m,
        "cache_write_1h_tokens": write_1h,
        "output_tokens": output,
        "occurred_at": shanghai(2026, 11, 3 + n, 10).isoformat(),
    }


def gpt5_record(key, n, input, read, output, searches, processing):
    return {
        "request_id": f"gpt5-{n}",
        "key_id": key.key_id,
        "provider": "openai",
        "model": "gpt-5",
        "input_tokens": input,
        "cache_read_tokens": read,
        "output_tokens": output,
        "web_searches": searches,
        "processing": processing,
        "occurred_at": shanghai(2026, 11, 10 + n, 15).isoformat(),
    }


@pytest.fixture
def bill(acme):
    with travel(2026, 11, 1):
        report = prices_import(at=datetime(2026, 11, 1, tzinfo=UTC), providers=("anthropic", "openai"))
    assert report.skipped_models == 0, report.problems
    set_terms(acme, discount_percent=Decimal("5"))
    rate(NOV, "7.1456")
    key = key_for(acme, "agent")
    ingest(
        *(sonnet_record(key, n, *counts) for n, counts in enumerate(SONNET)),
        *(gpt5_record(key, n, *counts) for n, counts in enumerate(GPT5)),
        now=shanghai(2026, 12, 1, 0, 30),
    )
    with travel(2026, 12, 1):
        return only(close(acme))


def usage_lines(bill: Bill) -> list[BillLine]:
    return list(bill.lines.filter(kind=BillLine.Kind.USAGE).order_by("position"))


def reference_cost(record: UsageRecord) -> Decimal:
    """genai-prices' ``calc_price`` of one stored record, with the price book's source data."""
    snapshot = data_snapshot.get_snapshot()
    provider = next(p for p in snapshot.providers if p.id == record.provider)
    info = next(m for m in provider.models if m.id == record.model)
    counts = {
        name: getattr(record, "cached_input_tokens" if name == "cache_read_tokens" else name) or 0
        for name in COUNT_FIELDS
    }
    context = {"processing": record.processing or "standard", "service_tier": record.service_tier or "default"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return info.calc_price(
            Usage(**counts), provider, genai_request_timestamp=record.occurred_at, price_context=context
        ).total_price


def test_the_bill_has_a_batch_line_cache_writes_and_the_long_context_price(bill):
    assert bill.status == Bill.Status.ISSUED, bill.hold_reason
    lines = usage_lines(bill)
    assert [(ln.model, ln.variant, ln.requests, ln.amount.amount) for ln in lines] == [
        ("claude-sonnet-4-5", "standard", 5, Decimal("23.88")),
        ("gpt-5", "standard", 2, Decimal("21.01")),
        ("gpt-5", "batch", 2, Decimal("21.51")),
    ]
    sonnet, gpt5, batch = lines
    assert [Decimal(ln.costs["USD"]) for ln in lines] == [Decimal("3.518256"), Decimal("3.095"), Decimal("3.16875")]
    assert sonnet.cached_input_tokens == 190_000
    assert sonnet.units == {
        "cache_write_tokens": 65_000,
        "cache_write_5m_tokens": 35_000,
        "cache_write_1h_tokens": 30_000,
    }
    assert gpt5.units == {"web_searches": 7}
    assert batch.units == {}
    assert (bill.subtotal.amount, bill.vat.amount, bill.total.amount) == (
        Decimal("66.40"),
        Decimal("3.98"),
        Decimal("70.38"),
    )


def test_each_line_equals_genai_prices_summed_and_rounded(bill):
    records = list(UsageRecord.objects.filter(customer=bill.customer))
    assert len(records) == len(SONNET) + len(GPT5)
    for line in usage_lines(bill):
        mine = [r for r in records if (r.model, r.variant or "standard") == (line.model, line.variant)]
        reference = sum((reference_cost(r) for r in mine), Decimal(0))
        assert Decimal(line.costs["USD"]) == reference, line.model
        expected = (reference * RATE * FACTOR).quantize(CENT, rounding=ROUND_HALF_UP)
        assert line.amount.amount == expected, (line.model, line.variant)


def test_the_api_shows_the_long_context_and_batch_unit_prices(bill, finance_client):
    data = finance_client.get(f"/api/v1/bills/{bill.number}/").json()
    sonnet, gpt5, batch = data["lines"]
    (prices,) = sonnet["unit_prices"]
    assert prices["currency"] == "USD" and prices["exchange_rate"] == "7.145600"
    assert prices["prices"] == {
        "input_mtok": {"base": "3", "tiers": [{"start": 200000, "price": "6"}]},
        "cache_write_mtok": {"base": "3.75", "tiers": [{"start": 200000, "price": "7.5"}]},
        "cache_read_mtok": {"base": "0.3", "tiers": [{"start": 200000, "price": "0.6"}]},
        "output_mtok": {"base": "15", "tiers": [{"start": 200000, "price": "22.5"}]},
        "cache_write_1h_mtok": {"base": "6", "tiers": [{"start": 200000, "price": "12"}]},
    }
    assert sonnet["units"] == {
        "cache_write_tokens": 65000,
        "cache_write_5m_tokens": 35000,
        "cache_write_1h_tokens": 30000,
    }
    assert gpt5["unit_prices"][0]["prices"] == {
        "input_mtok": "1.25",
        "cache_read_mtok": "0.125",
        "output_mtok": "10",
        "web_searches_kcount": "10",
    }
    assert batch["variant"] == "batch"
    assert batch["unit_prices"][0]["prices"] == {"input_mtok": "0.625", "cache_read_mtok": "0.0625", "output_mtok": "5"}


def test_the_usage_lines_equal_the_usage_summary_to_the_fen(bill):
    """The summary's rows (per model, each rounded once) summed, and per model the bill's
    lines of that model (one per variant, each rounded once) summed: the same fen."""
    summary = usage_summary(customer=bill.customer, period=NOV, group_by="model")
    lines = usage_lines(bill)
    assert summary.total == sum((ln.amount.amount for ln in lines), Decimal(0)) == Decimal("66.40")
    for row in summary.rows:
        of_model = [ln for ln in lines if ln.model == row.key]
        assert row.cost == sum((ln.amount.amount for ln in of_model), Decimal(0)), row.key
        assert row.cost_by_currency["USD"] == sum((Decimal(ln.costs["USD"]) for ln in of_model), Decimal(0))
        assert row.units == {name: sum(ln.units.get(name, 0) for ln in of_model) for name in row.units}


def test_the_pdf_shows_cache_writes_batch_and_the_unit_prices(bill):
    rendered = bill_render_pdf(bill_id=bill.pk)
    with rendered.pdf.open("rb") as handle:
        text = pdf_text(handle.read())
    compact = text.replace("\n", "").replace(" ", "")
    assert "缓存写入5分钟35,000tokens" in compact
    assert "缓存写入1小时30,000tokens" in compact
    assert "批量" in text
    assert "联网搜索7次" in compact
    assert "输入3、缓存读取0.3、缓存写入3.75、缓存写入1小时6、输出15USD/百万tokens" in compact
    assert (
        "输入超过200,000tokens的请求：输入6、缓存读取0.6、缓存写入7.5、缓存写入1小时12、输出22.5USD/百万tokens"
        in compact
    )
    assert "汇率7.1456" in compact
    assert "¥23.88" in text and "¥21.51" in text


def test_the_portal_bill_page_shows_them_in_both_languages(bill, alice):
    response = signed_in(alice).get(f"/portal/bills/{bill.number}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "缓存写入 5分钟 35,000 tokens" in page
    assert "批量" in page
    assert "联网搜索 7 次" in page
    assert "输入 3、缓存读取 0.3、缓存写入 3.75、缓存写入 1小时 6、输出 15 USD/百万 tokens" in page
    # the long-context price
    assert (
        "输入超过 200,000 tokens 的请求：输入 6、缓存读取 0.6、缓存写入 7.5、缓存写入 1小时 12、输出 22.5 USD/百万 tokens"
        in page
    )
    assert "输入 0.625、缓存读取 0.0625、输出 5 USD/百万 tokens" in page  # the Batch line's prices
    english = signed_in(alice, "en").get(f"/portal/bills/{bill.number}/").content.decode()
    assert "cache writes 5 min 35,000 tokens" in english
    assert "Batch" in english
    assert "web searches: 7" in english
    assert "requests above 200,000 input tokens: input 6, cache reads 0.6, cache writes 7.5" in english


def test_the_admin_bill_page_shows_them(bill, admin_client):
    page = admin_client.get(f"/admin/billing/bill/{bill.pk}/change/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "缓存写入 1小时 30,000 tokens" in page
    assert "批量" in page
    assert "输入超过 200,000 tokens 的请求：输入 6、缓存读取 0.6、缓存写入 7.5、缓存写入 1小时 12" in page


def test_a_per_model_invoice_has_one_line_per_model_its_variants_summed(bill):
    """Invoices name what was sold (the model), not how it was priced: gpt-5's standard and
    Batch lines are one invoice line of 21.01 + 21.51 = 42.52."""
    seller_profile()
    with travel(2026, 12, 2):
        (invoice,) = invoice_issue(bill=bill, invoice_type="ordinary", per_model=True)
    assert [(ln.spec, ln.amount.amount) for ln in invoice.lines.order_by("position")] == [
        ("claude-sonnet-4-5", Decimal("23.88")),
        ("gpt-5", Decimal("42.52")),
    ]
    assert sum(ln.tax.amount for ln in invoice.lines.all()) == bill.vat.amount
