"""README's "A tour" re-walked in a real browser, in Chinese and then in English, by each
demo audience — finance staff, presales, ACME's portal administrator — on the demo data
(``seed_demo`` at a hundredth of its volume): every page of the tour and every page of the
staff and portal shells their navigation and links lead to. A Chinese page shows no English
word but names and codes, every page prints money as the ``money`` filter does (¥1,234.50),
and none answers an error or logs one in the console (tests.browser.language_walk)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from tests.browser.language_walk import data_words, english_words, money_faults
from tests.browser.tour_walk import DEMO_PASSWORDS, walk_as

pytestmark = [pytest.mark.browser]

# The pages each audience must have read (its shell's sections and the tour's pages), so a
# walk that lost its way cannot pass by reading nothing.
MUST_READ = {
    "finance": {
        "/staff/",
        "/staff/reconciliation/",
        "/staff/statement/",
        "/staff/presales/",
        "/admin/",
        "/admin/billing/bill/",
        "/admin/billing/bill/aging/",
        "/admin/invoices/invoice/",
        "/admin/billing/priceversion/",
        "/admin/billing/dunningnotice/",
    },
    "presales": {"/staff/presales/"},
    "acme-admin": {
        "/portal/",
        "/portal/usage/",
        "/portal/bills/",
        "/portal/statement/",
        "/portal/invoices/",
        "/portal/invoice-titles/",
        "/portal/keys/",
        "/portal/budgets/",
        "/portal/alerts/",
        "/portal/users/",
    },
}


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--force", "--scale=0.01", stdout=StringIO())


def test_the_tour_reads_in_one_language_and_one_money_format(browser, live_server, demo):
    allowed = data_words()
    reports = []
    for language in ("zh-hans", "en"):
        for username, must_read in MUST_READ.items():
            context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=language)
            page = context.new_page()
            walk = walk_as(page, live_server.url, username, DEMO_PASSWORDS[username], language, allowed, limit=150)
            context.close()
            missed = must_read - {path.split("?")[0] for path in walk.pages}
            if missed or walk.failures or walk.english or walk.money:
                reports.append(f"{username}, {walk.report()}\nMISSED {sorted(missed)}")
    assert reports == []


@pytest.mark.parametrize(
    "text",
    [
        "打开 / download",  # the document link the issue found
        "草稿 draft #9",
        "已开具 issued",
        "Credit",
        "stage: 已逾期",
        "re-price 未定价用量",  # a hyphenated word is English when a part is
    ],
)
def test_it_finds_english_left_in_a_chinese_text(text):
    assert english_words(text, {"ACME", "acme-admin"}) != []


@pytest.mark.parametrize(
    "text",
    [
        "ACME · acme-admin · gpt-4o · BILL-ACME-202610 · ap@acme.example.cn",  # data and codes
        "每百万 token（MTok）价格，API、CSV、PDF、USCC",
        "企业微信（wecombot://...）",
        "列：amount（贷方金额）",  # a code glossed in Chinese
        "YYYY-MM",
        "简体中文 English",
    ],
)
def test_it_lets_names_and_codes_through(text):
    assert english_words(text, {"ACME", "acme-admin"}) == []


@pytest.mark.parametrize(
    "text",
    ["CN¥157.58", "¥1086.10", "200.00 CNY: ¥322.03", "合计 1,086.10 元", "￥12.00", "¥12.5", "$3.20", "CNY 12.00"],
)
def test_it_finds_money_printed_another_way(text):
    assert money_faults(text) != []


@pytest.mark.parametrize(
    "text", ["¥1,086.10", "-¥238.80", "合计 ¥0.00，余额 ¥12,345,678.90", "1 USD = 7.118 CNY", "2026-11-05 10:12"]
)
def test_it_accepts_the_money_filters_format(text):
    assert money_faults(text) == []
