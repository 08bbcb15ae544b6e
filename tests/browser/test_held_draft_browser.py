"""A held draft released by clicks alone, in a real browser and in Chinese: from the bill's
"what to do", the link to the missing price (the form filled in with the held usage's
earliest time), then *Re-price held usage and close again*. The first try takes the date
widget's "today / now" shortcuts, as a newcomer does: re-price then says why nothing was
re-priced, and the bill stays held until the price starts early enough."""

from __future__ import annotations

from datetime import date, datetime

import playwright.sync_api as playwright_sync
import pytest

from billing.bills.close import month_close_customer
from billing.metering.ingest import usage_ingest_batch
from billing.models import Bill, PriceVersion
from tests.browser.helpers import PASSWORD, sign_in
from tests.factories import UserFactory, api_key_for
from tests.invoices.helpers import SHANGHAI

pytestmark = [pytest.mark.browser]
expect = playwright_sync.expect


@pytest.fixture
def held_draft(acme_project, seller) -> Bill:
    """ACME's October bill held in draft: 3 calls of a fine-tuned model without a price."""
    return held_draft_of(acme_project)


def held_draft_of(project) -> Bill:
    key, _secret = api_key_for(project, name="ft")
    records = [
        {
            "request_id": f"ft-{i}",
            "key_id": key.key_id,
            "provider": "openai",
            "model": "acme-ft-v2",
            "input_tokens": 1000,
            "output_tokens": 1_000_000,
            "occurred_at": f"2026-10-15T10:{12 + i:02d}:30+08:00",
        }
        for i in range(3)
    ]
    assert usage_ingest_batch(records=records, now=datetime(2026, 10, 20, tzinfo=SHANGHAI)).unpriced == 3
    (outcome,) = month_close_customer(customer=project.customer, period=date(2026, 10, 1), today=date(2026, 11, 2))
    assert outcome.bill.status == Bill.Status.DRAFT
    return outcome.bill


def fill_prices(page) -> None:
    page.select_option("#id_currency", "CNY")
    page.fill("#id_input_per_mtok", "0")
    page.fill("#id_output_per_mtok", "100")
    with page.expect_navigation():
        page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("成功添加")


def reprice_from_the_list(page, base: str, draft: Bill) -> None:
    page.goto(f"{base}/admin/billing/bill/?status__exact=draft")
    page.locator("#result_list tr", has_text=f"草稿 #{draft.pk}").locator("input.action-select").check()
    page.select_option("select[name=action]", "reprice_and_close")
    with page.expect_navigation():
        page.click("button[name=index]")


def test_a_clerk_releases_a_held_draft_by_clicks_alone(page, live_server, transactional_db, held_draft):
    UserFactory(username="fiona", password=PASSWORD, is_staff=True, groups=["finance"])
    base = live_server.url
    sign_in(page, base, "fiona")

    # The bill says what to do: a link to the missing price, from the earliest held call.
    page.goto(f"{base}/admin/billing/bill/{held_draft.pk}/change/")
    link = page.locator(".field-next_step a", has_text="openai/acme-ft-v2")
    expect(link).to_contain_text("2026-10-15 10:12")
    link.click()
    expect(page.locator("#id_provider")).to_have_value("openai")
    expect(page.locator("#id_model")).to_have_value("acme-ft-v2")
    expect(page.locator("#id_effective_from_0")).to_have_value("2026/10/15")
    expect(page.locator("#id_effective_from_1")).to_have_value("10:12")

    # A newcomer's first try: the date widget's "today" and "now" — after the held usage.
    page.locator(".field-effective_from .datetimeshortcuts a", has_text="今天").click()
    page.locator(".field-effective_from .datetimeshortcuts a", has_text="现在").click()
    fill_prices(page)
    reprice_from_the_list(page, base, held_draft)
    messages = page.locator(".messagelist")
    expect(messages).to_contain_text("已重新计价 0 条用量记录")
    expect(messages).to_contain_text("价格的生效时间晚于暂扣的用量：用量最早 2026-10-15 10:12")
    expect(messages).to_contain_text("仍暂扣为草稿")
    expect(messages).not_to_contain_text("HELD")
    held_draft.refresh_from_db()
    assert held_draft.status == Bill.Status.DRAFT

    # Back to the bill, the same link, the time it fills in: the bill is issued.
    page.goto(f"{base}/admin/billing/bill/{held_draft.pk}/change/")
    page.locator(".field-next_step a", has_text="openai/acme-ft-v2").click()
    fill_prices(page)
    reprice_from_the_list(page, base, held_draft)
    expect(messages).to_contain_text("已重新计价 3 条用量记录")
    expect(messages).to_contain_text("BILL-ACME-202610（ACME，2026-10）：已出账，合计 ¥318.00。")
    held_draft.refresh_from_db()
    assert (held_draft.status, held_draft.number) == (Bill.Status.ISSUED, "BILL-ACME-202610")
    assert PriceVersion.objects.filter(model="acme-ft-v2").count() == 2
