"""In real headless Chromium, in Chinese: finance drops a GBK bank export on the upload page,
previews it, imports it, and matches the transfer left unmatched in one click from the list
of likely bills."""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import expect

from banking.models import BankTransaction, PayerAccount
from billing.models import Bill
from tests.banking.conftest import FIXTURES, csv_bytes
from tests.browser.conftest import _chromium_installed, allow_orm_beside_playwright, browser, page  # noqa: F401
from tests.browser.helpers import PASSWORD, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

DROP = """([name, mime, data]) => {
  const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, {type: mime}));
  const zone = document.getElementById('drop-zone');
  zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: transfer, bubbles: true, cancelable: true}));
  zone.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
}"""


def drop_file(tab, name: str, content: bytes, mime: str = "text/csv") -> None:
    tab.evaluate(DROP, [name, mime, base64.b64encode(content).decode()])


def test_finance_drops_a_statement_previews_imports_and_matches_by_hand(page, live_server, ledger, time_machine):  # noqa: F811
    from tests.billing.close_helpers import shanghai

    time_machine.move_to(shanghai(2026, 12, 20, 10), tick=False)
    user = UserFactory(username="fiona", is_staff=True, groups=["finance"])
    user.set_password(PASSWORD)
    user.save()
    sign_in(page, live_server.url, "fiona")

    page.goto(f"{live_server.url}/admin/banking/bankstatement/add/")
    expect(page.locator("h1")).to_have_text("导入银行对账单")
    drop_file(page, "icbc_2026-12-17.csv", (FIXTURES / "icbc_2026-12-17.csv").read_bytes())
    expect(page.locator("#drop-file-name")).to_have_text("icbc_2026-12-17.csv")
    page.select_option("#id_format", "csv")
    page.select_option("#id_profile", label="工商银行 ICBC")
    with page.expect_navigation():
        page.get_by_role("button", name="预览").click()

    preview = page.locator("#preview")
    expect(preview).to_contain_text("核销 BILL-ACME-202610 ¥5,300.00, BILL-ACME-202611 ¥5,300.00")
    expect(preview).to_contain_text("杭州某某网络有限公司")
    assert BankTransaction.objects.count() == 0  # a preview writes nothing

    with page.expect_navigation():
        page.get_by_role("button", name="导入并入账").click()
    expect(page.locator(".messagelist")).to_contain_text("对账单已导入")
    assert Bill.objects.get(number="BILL-ACME-202610").status == Bill.Status.PAID

    # A transfer from a new account of OTHER, for OTHER's bill, without a bill number.
    row = ["2026-12-19", "2120.00", "", "别家公司（北京分公司）", "6217 8888 0000 1234", "服务费", "R-BJ-1"]
    page.goto(f"{live_server.url}/admin/banking/bankstatement/add/")
    drop_file(page, "bj.csv", csv_bytes([row], encoding="gbk"))
    page.select_option("#id_format", "csv")
    page.select_option("#id_encoding", "gbk")
    page.locator("details summary").click()
    for field, header in [
        ("date", "交易日期"),
        ("amount", "贷方发生额"),
        ("payer_name", "对方户名"),
        ("payer_account", "对方账号"),
        ("memo", "摘要"),
        ("bank_reference", "流水号"),
    ]:
        page.fill(f"#id_{field}", header)
    with page.expect_navigation():
        page.get_by_role("button", name="预览").click()
    with page.expect_navigation():
        page.get_by_role("button", name="导入并入账").click()

    listed = page.locator("#unmatched tbody tr", has_text="R-BJ-1")
    expect(listed).to_contain_text("别家公司（北京分公司）")
    with page.expect_navigation():
        listed.get_by_role("button", name="匹配 BILL-OTHER-202611").click()
    expect(page.locator(".messagelist")).to_contain_text("已匹配")
    expect(page.locator("#unmatched")).not_to_contain_text("R-BJ-1")
    assert BankTransaction.objects.get(bank_reference="R-BJ-1").status == "matched"
    assert Bill.objects.get(number="BILL-OTHER-202611").status == Bill.Status.PAID
    assert PayerAccount.objects.get(account_key="6217888800001234").customer.code == "OTHER"
