"""A presales engineer walks from the requirement intake to the proposal PDF in a real
Chromium: a bad field first (shown beside it), then the estimate with its options, cheapest
and levers, a proposal, and its PDF downloaded and read."""

from __future__ import annotations

import io
from pathlib import Path

import playwright.sync_api as playwright_sync
import pytest
from pypdf import PdfReader

from presales.models import Estimate, Proposal
from tests.browser.helpers import PASSWORD, sign_in, switch_language
from tests.factories import UserFactory
from tests.presales.conftest import price_book, usd_rate  # noqa: F401

pytestmark = [pytest.mark.browser]
expect = playwright_sync.expect


def fill_intake(page, *, models: str) -> None:
    page.fill("#id_prospect", "杭州云栖电商有限公司")
    page.fill("#id_scenario", "商品描述生成")
    page.fill("#id_discount_percent", "8")
    page.fill("#id_monthly_growth_percent", "5")
    page.fill("#id_workloads-0-name", "商品描述")
    page.select_option("#id_workloads-0-basis", "daily")
    page.fill("#id_workloads-0-volume", "50000")
    page.fill("#id_workloads-0-input_tokens", "800")
    page.fill("#id_workloads-0-output_tokens", "300")
    page.fill("#id_workloads-0-cached_share", "0.3")
    page.fill("#id_workloads-0-models", models)


def test_from_intake_to_the_proposal_pdf(page, live_server, transactional_db, price_book, usd_rate):  # noqa: F811
    UserFactory(username="pete", is_staff=True, groups=["presales"], password=PASSWORD)
    base = live_server.url
    sign_in(page, base, "pete")
    page.goto(f"{base}/staff/presales/")

    expect(page.locator("#volume-rule")).to_contain_text("平均 QPS")
    expect(page.locator("#volume-rule")).to_contain_text("峰值")

    # an unknown model: the error sits beside the models field, nothing is kept
    fill_intake(page, models="openai/gpt-4o\nopenai/gpt-9")
    with page.expect_navigation():
        page.click("#intake-form [type=submit]")
    expect(page.locator("#field-workloads-0-models .errorlist")).to_contain_text("未知模型 openai/gpt-9")
    assert Estimate.objects.count() == 0

    page.fill("#id_workloads-0-models", "openai/gpt-4o\nopenai/gpt-4o-mini")
    with page.expect_navigation():
        page.click("#intake-form [type=submit]")

    expect(page.locator("#requirement")).to_contain_text("= 1,500,000")  # 50,000 a day × 30 days
    options = page.locator("#options tbody tr")
    expect(options).to_have_count(2)
    expect(options.nth(0)).to_contain_text("¥46,050.60")
    expect(page.locator("#options tr.cheapest")).to_contain_text("gpt-4o-mini")
    expect(page.locator("#cheapest")).to_contain_text("商品描述 → gpt-4o-mini")
    expect(page.locator("#options-chart svg")).to_be_visible()
    expect(page.locator("#levers")).to_contain_text("¥2,645.46")  # 50 % of input cached

    page.fill("#id_valid_until", "2026-12-31")
    page.fill("#id_payment_terms_days", "45")
    page.get_by_label("商品描述: openai/gpt-4o-mini (¥2,763.04)").check()
    page.fill("#id_notes", "首月免费试用 7 天")
    with page.expect_navigation():
        page.click("#proposal-form [type=submit]")

    proposal = Proposal.objects.get()
    expect(page.locator("#versions tbody tr")).to_have_count(1)
    expect(page.locator("#versions")).to_contain_text("¥2,928.82")
    with page.expect_download() as info:
        page.locator("#versions a.download").click()
    assert info.value.suggested_filename == f"{proposal.number}-v1.pdf"
    content = Path(info.value.path()).read_bytes()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert proposal.number in text
    assert "openai/gpt-4o-mini" in text
    assert "首月免费试用 7 天" in text
    assert "大写" in text

    switch_language(page, "en")
    expect(page.locator("#versions")).to_contain_text("download")
    page.goto(f"{base}/staff/presales/")
    expect(page.locator("#volume-rule")).to_contain_text("AVERAGE QPS")
