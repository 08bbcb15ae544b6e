"""/portal/budgets/: each budget's use this month (the evaluation's own figures) as a gauge;
an admin creates and edits budgets through billing.budgets, whose refusals are shown beside
the field; "send test" goes by the alerts' delivery path and fails with a generic message;
customer-set channels are held to the public services (no internal hosts)."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core import mail

from billing.budgets.budgets import budget_create
from billing.budgets.spend import budget_use
from billing.metering.ingest import usage_ingest_batch
from billing.models import Budget
from tests.billing.alerts_helpers import free_port, meter_price, spend
from tests.factories import api_key_for
from tests.invoices.helpers import SHANGHAI
from tests.portal.conftest import signed_in

pytestmark = pytest.mark.django_db

FORM = {
    "scope": "customer",
    "target": "",
    "monthly_amount": "1000.00",
    "currency": "CNY",
    "thresholds": "50, 80, 100",
    "channels": "ops@acme.example.cn\nwecombot://acme-bot-key",
}


@pytest.fixture
def acme_key(acme_project):
    key, _secret = api_key_for(acme_project, name="生产")
    return key


@pytest.fixture
def budget(acme, acme_key, _november):
    return budget_create(
        customer=acme, scope="customer", target=None, monthly_amount=Decimal("1000"), channels=["ops@acme.example.cn"]
    )


@pytest.fixture
def _november(time_machine):
    time_machine.move_to(datetime(2026, 11, 5, 10, 0, tzinfo=SHANGHAI), tick=False)


def section(html: str, budget_pk: int) -> str:
    return re.search(rf'<section class="card budget" id="budget-{budget_pk}">.*?</section>', html, re.S).group(0)


def errors_of(html: str, field: str) -> str:
    return re.search(rf'<div class="field has-error" id="field-{field}">.*?</div>', html, re.S).group(0)


def test_each_budget_shows_its_use_as_the_evaluation_counts_it(alice_portal, budget, acme_key):
    meter_price()
    usage_ingest_batch(records=[spend(acme_key.key_id, "123.456", date(2026, 11, 2))])
    used, limit = budget_use(budget)
    assert (used, limit) == (Decimal("123.46"), Decimal("1000"))
    html = section(alice_portal.get("/portal/budgets/").content.decode(), budget.pk)
    assert "¥123.46" in html and "¥1,000.00" in html and "12.3%" in html
    assert 'class="chart"' in html and 'class="gauge-fill"' in html
    assert "50%" in html and "80%" in html and "100%" in html  # the threshold ticks


def test_an_admin_creates_a_budget_with_thresholds_and_channels(alice_portal, acme, acme_key, _november):
    answer = alice_portal.post(
        "/portal/budgets/", {**FORM, "scope": "api_key", "target": acme_key.key_id, "hard_limit": "on"}
    )
    assert answer.status_code == 302 and answer["Location"] == "/portal/budgets/"
    budget = Budget.objects.get()
    assert (budget.scope, budget.api_key, budget.monthly_amount, budget.thresholds, budget.hard_limit) == (
        "api_key",
        acme_key,
        Decimal("1000.00"),
        [50, 80, 100],
        True,
    )
    assert budget.channels == ["ops@acme.example.cn", "wecombot://acme-bot-key"]
    assert "预算已保存" in alice_portal.get("/portal/budgets/").content.decode()


def test_an_admin_edits_a_budget(alice_portal, budget):
    page = alice_portal.get(f"/portal/budgets/{budget.pk}/").content.decode()
    assert 'value="50, 80, 100"' in page and "ops@acme.example.cn</textarea>" in page
    answer = alice_portal.post(
        f"/portal/budgets/{budget.pk}/",
        {**FORM, "monthly_amount": "2500", "thresholds": "90", "channels": "mailto:fin@acme.example.cn"},
    )
    assert answer.status_code == 302
    budget.refresh_from_db()
    assert (budget.monthly_amount, budget.thresholds, budget.channels, budget.is_active) == (
        Decimal("2500"),
        [90],
        ["fin@acme.example.cn"],
        False,  # the "active" box was not ticked
    )


@pytest.mark.parametrize(
    ("language", "fields", "field", "message"),
    [
        ("zh-hans", {"monthly_amount": "0"}, "monthly_amount", "预算金额必须大于零。"),
        ("en", {"monthly_amount": "0"}, "monthly_amount", "The budget must be greater than zero."),
        ("en", {"monthly_amount": "lots"}, "monthly_amount", "Enter a number."),
        ("zh-hans", {"thresholds": "50, half"}, "thresholds", "请填写整数百分比"),
        ("en", {"thresholds": "0, 50"}, "thresholds", "Thresholds are percentages between 1 and 1000."),
        ("en", {"scope": "project", "target": ""}, "target", "No project with this code for the customer."),
        ("zh-hans", {"channels": "not an address"}, "channels", "既不是邮箱地址，也不是通知 URL：not an address"),
        ("en", {"channels": "not an address"}, "channels", "Not an e-mail address or a notification URL"),
    ],
)
def test_a_bad_budget_is_shown_again_with_the_error_beside_the_field(
    alice, acme_key, _november, language, fields, field, message
):
    page = signed_in(alice, language).post("/portal/budgets/", {**FORM, **fields})
    assert page.status_code == 200
    assert message in errors_of(page.content.decode(), field)
    assert not Budget.objects.exists()


@pytest.mark.parametrize(
    ("channel", "why"),
    [
        ("json://127.0.0.1:5432/x", "internal"),
        ("http://169.254.169.254/", "internal"),
        ("http://10.0.0.1/", "internal"),
        ("https://[::1]/hook", "internal"),
        ("slack://localhost/x", "not allowed"),  # not a Slack token triple: apprise has no Slack URL
        ("https://hooks.example.com/services/T1/B1/C1", "not allowed"),
        ("https://qyapi.weixin.qq.com.evil.com/cgi-bin/webhook/send?key=x", "not allowed"),
        ("mailto://user:pw@smtp.acme.example.cn", "not allowed"),  # a mail server of their choosing
        ("json://hooks.slack.com/x", "not allowed"),
    ],
)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_channel_to_an_internal_or_unlisted_host_is_refused_beside_the_channels(
    alice, acme_key, _november, channel, why, language
):
    page = signed_in(alice, language).post("/portal/budgets/", {**FORM, "channels": f"ops@acme.example.cn\n{channel}"})
    errors = errors_of(page.content.decode(), "channels")
    expected = {
        ("internal", "en"): "points at an internal or private address",
        ("internal", "zh-hans"): "指向内部或私有地址",
        ("not allowed", "en"): "Only e-mail addresses and WeCom, DingTalk, Feishu/Lark or Slack webhooks",
        ("not allowed", "zh-hans"): "只能使用电子邮件地址以及企业微信、钉钉、飞书/Lark 或 Slack",
    }[(why, language)]
    assert expected in errors
    assert not Budget.objects.exists()


@pytest.mark.parametrize(
    "channel",
    [
        "wecombot://acme-bot-key",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc123",
        "dingtalk://abcdefgh/",
        "feishu://abcdefgh",
        "lark://abcdefgh",
        "https://open.larksuite.com/open-apis/bot/v2/hook/abcdefgh",
        "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
        "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
    ],
)
def test_the_public_webhooks_of_the_four_services_are_accepted(alice_portal, acme_key, _november, channel):
    assert alice_portal.post("/portal/budgets/", {**FORM, "channels": channel}).status_code == 302
    assert Budget.objects.get().channels == [channel]


def test_the_api_holds_a_portal_admin_to_the_same_rule_and_lets_finance_use_its_own_hosts(
    alice_client, finance_client, acme
):
    body = {"scope": "customer", "target": None, "monthly_amount": "100", "channels": ["http://10.0.0.1/"]}
    refused = alice_client.post("/api/v1/customers/ACME/budgets/", body, format="json")
    assert refused.status_code == 400 and "channels" in refused.json()["errors"]
    body["channels"] = ["json://127.0.0.1:9/hook"]
    assert finance_client.post("/api/v1/customers/ACME/budgets/", body, format="json").status_code == 201


def test_send_test_to_an_email_channel_goes_by_django_mail(alice_portal, budget):
    answer = alice_portal.post(f"/portal/budgets/{budget.pk}/test/", {"channel": "ops@acme.example.cn"}, follow=True)
    assert "测试通知已发送至 ops@acme.example.cn" in answer.content.decode()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ops@acme.example.cn"]
    assert "测试通知" in mail.outbox[0].subject


def test_a_failed_test_says_so_without_the_reason(alice, acme, acme_key, _november):
    # Set by our staff (a host of ours that nothing listens on): the failure's reason
    # ("connection refused to 127.0.0.1:port") must not reach the customer.
    dead = f"json://127.0.0.1:{free_port()}/"
    budget = budget_create(
        customer=acme, scope="customer", target=None, monthly_amount=Decimal("10"), channels=[dead], staff=True
    )
    answer = signed_in(alice, "en").post(f"/portal/budgets/{budget.pk}/test/", {"channel": dead}, follow=True)
    html = answer.content.decode()
    assert "could not be delivered. Check the address or webhook and try again." in html
    assert "refused" not in html.lower() and "Errno" not in html and "ConnectionError" not in html


def test_send_test_only_to_the_budgets_own_channels(alice_portal, budget):
    answer = alice_portal.post(f"/portal/budgets/{budget.pk}/test/", {"channel": "x@evil.example"}, follow=True)
    assert "该预算没有这个渠道" in answer.content.decode()
    assert mail.outbox == []


def test_a_developer_reads_budgets_but_cannot_change_them(bob_portal, budget):
    html = bob_portal.get("/portal/budgets/").content.decode()
    assert f'id="budget-{budget.pk}"' in html and 'id="budget-form"' not in html and "send-test" not in html
    assert bob_portal.post("/portal/budgets/", FORM).status_code == 403
    assert bob_portal.get(f"/portal/budgets/{budget.pk}/").status_code == 403
    assert bob_portal.post(f"/portal/budgets/{budget.pk}/", FORM).status_code == 403
    assert bob_portal.post(f"/portal/budgets/{budget.pk}/test/", {"channel": "ops@acme.example.cn"}).status_code == 403
    assert Budget.objects.count() == 1 and mail.outbox == []


def test_another_customers_admin_gets_404_for_acmes_budget(charlie_portal, budget):
    assert charlie_portal.get(f"/portal/budgets/{budget.pk}/").status_code == 404
    assert charlie_portal.post(f"/portal/budgets/{budget.pk}/", FORM).status_code == 404
    test = charlie_portal.post(f"/portal/budgets/{budget.pk}/test/", {"channel": "ops@acme.example.cn"})
    assert test.status_code == 404 and mail.outbox == []
    assert f'id="budget-{budget.pk}"' not in charlie_portal.get("/portal/budgets/").content.decode()


def test_posts_need_the_csrf_token(alice, budget):
    client = signed_in(alice, enforce_csrf_checks=True)
    assert client.post("/portal/budgets/", FORM).status_code == 403
    assert client.post(f"/portal/budgets/{budget.pk}/", FORM).status_code == 403
    assert client.post(f"/portal/budgets/{budget.pk}/test/", {"channel": "ops@acme.example.cn"}).status_code == 403
    assert Budget.objects.count() == 1 and mail.outbox == []


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "points at an internal or private address"), ("zh-hans", "指向内部或私有地址")],
)
def test_editing_holds_the_channels_to_the_same_rule_and_keeps_the_budget(alice, budget, language, message):
    page = signed_in(alice, language).post(
        f"/portal/budgets/{budget.pk}/", {**FORM, "monthly_amount": "9", "channels": "http://169.254.169.254/"}
    )
    assert page.status_code == 200
    assert message in errors_of(page.content.decode(), "channels")
    budget.refresh_from_db()
    assert (budget.monthly_amount, budget.channels) == (Decimal("1000"), ["ops@acme.example.cn"])
