"""The customer's administrator manages the portal in a real browser: an API key (its secret
shown once, copied with the button) revoked after confirming, a budget with thresholds and a
channel (its gauge, a test e-mail), the alerts feed, a user invited by e-mail who sets a
password from the link; the developer sees keys and budgets read-only."""

from __future__ import annotations

import re
from decimal import Decimal

import playwright.sync_api as playwright_sync
import pytest
from django.core import mail

from billing.models import Alert, Budget
from customers.models import ApiKey, PortalUser, secret_digest
from tests.browser.helpers import PASSWORD, portal_sign_in
from tests.factories import CustomerFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser]
expect = playwright_sync.expect


@pytest.fixture
def acme_people(transactional_db):
    acme = CustomerFactory(code="ACME", name="上海阿克米信息技术有限公司")
    ProjectFactory(customer=acme, code="chatbot", name="智能客服")
    for username, role in (("alice", "admin"), ("bob", "developer")):
        PortalUser.objects.create(user=UserFactory(username=username, password=PASSWORD), customer=acme, role=role)
    return acme


def test_the_admin_manages_keys_budgets_alerts_and_users(page, live_server, acme_people):
    base = live_server.url
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    portal_sign_in(page, base, "alice")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    # A key: the secret once, copied by the button.
    page.goto(f"{base}/portal/keys/")
    page.select_option("#id_project", "chatbot")
    page.fill("#id_name", "生产环境")
    with page.expect_navigation():
        page.click("#key-form [type=submit]")
    secret = page.locator("#key-secret").inner_text().strip()
    assert secret.startswith("sk_")
    key = ApiKey.objects.get(name="生产环境")
    assert key.secret_digest == secret_digest(secret)
    page.click("#copy-secret")
    expect(page.locator("#copy-status")).to_have_text("已复制")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.goto(f"{base}/portal/keys/")
    assert secret not in page.content()

    # Revoke it: a confirmation page first.
    page.locator(f"#key-{key.key_id} a", has_text="撤销").click()
    expect(page.locator("h1")).to_have_text(f"撤销密钥 {key.key_id}？")
    key.refresh_from_db()
    assert key.revoked_at is None
    with page.expect_navigation():
        page.click("#confirm-revoke")
    expect(page.locator(f"#key-{key.key_id}")).to_contain_text("已撤销")
    key.refresh_from_db()
    assert key.revoked_at is not None

    # A budget with thresholds and an e-mail channel; its gauge; a test e-mail.
    page.goto(f"{base}/portal/budgets/")
    page.fill("#id_monthly_amount", "5000")
    page.fill("#id_thresholds", "60, 90")
    page.fill("#id_channels", "ops@acme.example.cn")
    with page.expect_navigation():
        page.click("#budget-form [type=submit]")
    budget = Budget.objects.get()
    assert (budget.monthly_amount, budget.thresholds, budget.channels) == (
        Decimal("5000.00"),
        [60, 90],
        ["ops@acme.example.cn"],
    )
    card = page.locator(f"#budget-{budget.pk}")
    expect(card.locator("svg.chart .gauge-fill")).to_have_count(1)
    expect(card.locator(".budget-limit")).to_have_text("¥5,000.00")
    expect(card.locator("svg.chart")).to_contain_text("60%")
    with page.expect_navigation():
        card.locator(".send-test").click()
    expect(page.locator("ul.messages")).to_contain_text("测试通知已发送至 ops@acme.example.cn")
    assert [m.to for m in mail.outbox] == [["ops@acme.example.cn"]]

    # The alerts feed, in the reader's language.
    Alert.objects.create(
        customer=acme_people,
        budget=budget,
        kind="threshold",
        threshold=60,
        period=budget.created_at.date().replace(day=1),
        amount=Decimal("3100.00"),
        message="stored",
        dedupe_key="browser:1",
    )
    page.goto(f"{base}/portal/alerts/")
    expect(page.locator(".alert-row .summary")).to_contain_text("¥3,100.00")
    expect(page.locator(".alert-row .summary")).to_contain_text("60% 阈值")

    # Invite a user; the link from the e-mail lets them choose a password.
    page.goto(f"{base}/portal/users/")
    page.fill("#id_email", "dora@acme.example.cn")
    page.select_option("#id_role", "finance")
    with page.expect_navigation():
        page.click("#invite-form [type=submit]")
    expect(page.locator("ul.messages")).to_contain_text("dora@acme.example.cn")
    invitation = mail.outbox[-1]
    assert invitation.to == ["dora@acme.example.cn"]
    link = re.search(r"https?://\S+/portal/invitation/\S+/", invitation.body).group(0)
    guest = page.context.browser.new_context(locale="zh-CN")
    try:
        other = guest.new_page()
        other.goto(link)
        other.fill("#id_new_password1", "dora-chooses-2026")
        other.fill("#id_new_password2", "dora-chooses-2026")
        with other.expect_navigation():
            other.click("#password-form [type=submit]")
        assert other.url == f"{base}/portal/"
        expect(other.locator("#portal-user")).to_contain_text("dora@acme.example.cn")
    finally:
        guest.close()
    dora = PortalUser.objects.get(user__username="dora@acme.example.cn")
    assert dora.role == "finance" and dora.user.check_password("dora-chooses-2026")


def test_the_developer_sees_keys_and_budgets_read_only(page, live_server, acme_people):
    from billing.budgets.budgets import budget_create
    from customers import services

    project = acme_people.projects.get(code="chatbot")
    key, _secret = services.api_key_create(project=project, name="生产环境")
    budget_create(customer=acme_people, scope="customer", target=None, monthly_amount=Decimal("5000"))
    base = live_server.url
    portal_sign_in(page, base, "bob")
    page.goto(f"{base}/portal/keys/")
    expect(page.locator(f"#key-{key.key_id}")).to_be_visible()
    expect(page.locator("#key-form")).to_have_count(0)
    expect(page.locator("a", has_text="撤销")).to_have_count(0)
    expect(page.locator("#read-only-note")).to_be_visible()
    page.goto(f"{base}/portal/budgets/")
    expect(page.locator(".budget svg.chart")).to_have_count(1)
    expect(page.locator("#budget-form")).to_have_count(0)
    expect(page.locator(".send-test")).to_have_count(0)
    expect(page.locator("nav.sections a", has_text="用户")).to_have_count(0)
