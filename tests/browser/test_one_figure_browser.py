"""One figure in a real browser (issue 25 item 1, issue 20 item 4): the overview's month to
date, its budget gauge and card, the budgets page and the usage page's total for every
grouping read the API's ``total``, although the rows of each grouping add up to something
else; and the usage page shows cache writes, web searches and the variant split the API's
rows carry."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import playwright.sync_api as playwright_sync
import pytest

from billing.budgets.budgets import budget_create, budgets_evaluate_customer
from billing.models import Budget
from billing.pricing.services import price_version_set
from common.admin_display import money_text, number_text
from tests.billing.close_helpers import key_for, shanghai
from tests.billing.helpers import ingest, usage
from tests.billing.one_figure_helpers import ROWS_ADD_UP_TO, TOTAL, three_by_four
from tests.browser.helpers import portal_sign_in
from tests.portal.conftest import PASSWORD

pytestmark = [pytest.mark.browser]
expect = playwright_sync.expect


@pytest.fixture
def world(transactional_db, acme, alice):
    three_by_four(acme, shanghai(2026, 11, 5, 9))
    budget = budget_create(customer=acme, scope=Budget.Scope.CUSTOMER, target=None, monthly_amount=Decimal("100"))
    budgets_evaluate_customer(customer_id=acme.pk)
    return budget


@pytest.fixture
def dimensions(transactional_db, acme, alice):
    """lab-search (CNY): web searches ¥50 per 1,000, Batch at half the token prices; a
    standard call with cache writes and two searches, a Batch call with cache writes."""
    price_version_set(
        provider="lab",
        model="lab-search",
        effective_from=datetime(2026, 1, 1, tzinfo=shanghai(2026, 1, 1).tzinfo),
        currency="CNY",
        prices={"input_mtok": "10", "output_mtok": "20", "web_searches_kcount": "50"},
        variants=[{"when": {"processing": "batch"}, "prices": {"input_mtok": "5", "output_mtok": "10"}}],
    )
    key = key_for(acme, project_code="agents")
    moment = "2026-11-05T09:00:00+08:00"
    common = {"provider": "lab", "model": "lab-search", "occurred_at": moment, "output_tokens": 1000}
    result = ingest(
        [
            usage(key.key_id, "dim-1", input_tokens=40_000, cache_write_tokens=12_000, web_searches=2, **common),
            usage(key.key_id, "dim-2", input_tokens=30_000, cache_write_tokens=3_000, processing="batch", **common),
        ]
    )
    assert not result.rejected, result.as_dict()


def test_every_page_reads_the_apis_total(page, live_server, world, alice_client):
    base = live_server.url
    portal_sign_in(page, base, "alice", PASSWORD)
    api = {group: alice_client.get("/api/v1/usage-summary/", {"group_by": group}).json() for group in ROWS_ADD_UP_TO}
    total = money_text(Decimal(api["model"]["total"]))
    assert {answer["total"] for answer in api.values()} == {f"{TOTAL:.2f}"}

    page.goto(f"{base}/portal/")
    expect(page.locator("#mtd-spend")).to_have_text(total)
    card = page.locator(f"#budget-{world.pk}")
    expect(card.locator(".budget-spend")).to_have_text(total)
    assert card.locator("svg.chart title").first.text_content().startswith(f"{total} /")

    page.goto(f"{base}/portal/budgets/")
    expect(page.locator(f"#budget-{world.pk} .budget-spend")).to_have_text(total)

    for group, answer in api.items():
        page.goto(f"{base}/portal/usage/?group_by={group}")
        expect(page.locator("#usage-total")).to_have_text(total)
        rows = sum(Decimal(row["cost"]) for row in answer["rows"])
        assert rows == ROWS_ADD_UP_TO[group] != TOTAL
        expect(page.locator("#rows-rounded")).to_contain_text(money_text(rows))


def test_the_usage_page_shows_cache_writes_web_searches_and_variants(page, live_server, dimensions, alice_client):
    base = live_server.url
    portal_sign_in(page, base, "alice", PASSWORD)
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    (row,) = alice_client.get("/api/v1/usage-summary/", {"group_by": "model"}).json()["rows"]
    assert row["units"] == {"cache_write_tokens": 15_000, "web_searches": 2}

    page.goto(f"{base}/portal/usage/?group_by=model")

    headers = page.locator("#usage-table thead th").all_text_contents()
    assert {"Variant", "Cache writes (tokens)", "Web searches"} <= set(headers)
    shown = page.locator('#usage-table tr[data-key="lab-search"]:not(.variant-row)')
    expect(shown.locator("td.cache-writes")).to_have_text(number_text(15_000))
    expect(shown.locator("td.web-searches")).to_have_text("2")
    # The variants in the reader's words, as the bill prints them (批量 in Chinese).
    expect(shown.locator("td.variant")).to_have_text("Batch, standard")
    for variant in row["variants"]:
        line = page.locator(f'#usage-table tr.variant-row[data-variant="{variant["variant"]}"]')
        expect(line.locator("td.cache-writes")).to_have_text(number_text(variant["units"]["cache_write_tokens"]))
        expect(line.locator("td.web-searches")).to_have_text(number_text(variant["units"].get("web_searches", 0)))
        expect(line.locator("td.variant-cost")).to_have_text(money_text(Decimal(variant["cost"])))
