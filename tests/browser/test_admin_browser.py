"""The admin in a real browser: login, Chinese by default, the language switcher, a form error.

Debian's Chromium (/usr/bin/chromium) driven by Playwright against pytest-django's live server.
"""

from __future__ import annotations

import playwright.sync_api as playwright_sync
import pytest

from tests.browser.helpers import PASSWORD, switch_language

pytestmark = [pytest.mark.browser]


def test_admin_login_language_switch_and_tax_id_error(page, live_server, transactional_db, django_user_model):
    from customers.models import Customer
    from customers.validators import uscc_check_character

    django_user_model.objects.create_superuser("root", "root@example.cn", PASSWORD)
    expect = playwright_sync.expect

    page.goto(f"{live_server.url}/admin/")
    expect(page).to_have_url(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    expect(page).to_have_url(f"{live_server.url}/admin/")

    # Chinese by default: Django's own strings and ours.
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#site-name")).to_have_text("采购中心")
    expect(page.locator("#content h1")).to_have_text("站点管理")
    expect(page.locator("#logout-form button")).to_have_text("注销")
    expect(page.locator("#content-main")).to_contain_text("客户")
    expect(page.locator("#content-main")).to_contain_text("账单")

    # The switcher in the header, to English and back.
    expect(page.locator("#language-form button[value='zh-hans']")).to_be_disabled()
    switch_language(page, "en")
    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_have_text("Procurement Center")
    expect(page.locator("#content h1")).to_have_text("Site administration")
    expect(page.locator("#content-main")).to_contain_text("Customers")
    expect(page.locator("#content-main")).to_contain_text("Bills")
    switch_language(page, "zh-hans")
    expect(page.locator("#content h1")).to_have_text("站点管理")

    # A customer with a mistyped 统一社会信用代码: the form comes back with the error by the field.
    first17 = "91310115MA1K4LXQ8"
    right = uscc_check_character(first17)
    wrong = "0" if right != "0" else "1"
    page.goto(f"{live_server.url}/admin/customers/customer/add/")
    page.fill("#id_code", "BROWSER")
    page.fill("#id_name", "浏览器测试有限公司")
    page.fill("#id_tax_id", first17 + wrong)
    page.fill("#id_email", "ap@browser.example.cn")
    with page.expect_navigation():
        page.click("#customer_form [name=_save]")
    expect(page.locator(".errornote")).to_be_visible()
    field_error = page.locator(".field-tax_id .errorlist")
    expect(field_error).to_contain_text(f"校验码错误（应为 {right}）")
    expect(page.locator("#id_tax_id")).to_have_value(first17 + wrong)
    assert not Customer.objects.filter(code="BROWSER").exists()
