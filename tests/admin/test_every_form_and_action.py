"""Every add/change form and every action of the admin, submitted once by a finance clerk
(group ``finance``, not a superuser) with valid data, asserting what was saved.

``test_every_action_and_form_is_covered`` fails when an admin gains an action or an
editable form that has no test here."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core import mail
from django.test import RequestFactory
from djmoney.money import Money
from openpyxl import load_workbook

from billing.admin.bills import held_draft_steps
from billing.bills.close import month_close_customer
from billing.metering.ingest import usage_ingest_batch
from billing.models import (
    Alert,
    Bill,
    BillEvent,
    Budget,
    CreditEntry,
    DefaultProvider,
    ExchangeRate,
    ModelAlias,
    Payment,
    PriceVersion,
    QuarantinedRecord,
    SellerProfile,
    UsageRollup,
)
from billing.pricing.services import price_version_set
from customers.models import ApiKey, ApiToken, AuditEvent, Contract, Customer, PortalUser, Project
from customers.services import api_token_create
from invoices.models import Invoice, InvoiceRequest
from invoices.services import invoice_issue
from presales.models import ProposalTemplate
from tests.admin.helpers import action, admin_url, confirm, messages_of, page_data
from tests.factories import UserFactory, api_key_for, price_version, valid_uscc
from tests.invoices.helpers import SHANGHAI

pytestmark = pytest.mark.django_db

# (app_label, model_name) → the actions tested below (Django's delete_selected aside).
COVERED_ACTIONS = {
    ("billing", "priceversion"): {"export_as_csv", "export_as_xlsx"},
    ("billing", "exchangerate"): {"export_as_csv", "export_as_xlsx"},
    ("billing", "usagerollup"): {"export_as_csv", "export_as_xlsx", "reprice_unpriced"},
    ("billing", "quarantinedrecord"): {"export_as_csv", "export_as_xlsx", "mark_resolved"},
    ("billing", "bill"): {
        "export_as_csv",
        "export_as_xlsx",
        "close_again",
        "reprice_and_close",
        "render_pdf",
        "void_bills",
        "reissue_bills",
        "issue_invoice",
    },
    ("billing", "payment"): {"export_as_csv", "export_as_xlsx"},
    ("billing", "alert"): {"export_as_csv", "export_as_xlsx"},
    ("customers", "customer"): {"export_as_csv", "export_as_xlsx"},
    ("customers", "contract"): {"export_as_csv", "export_as_xlsx"},
    ("customers", "auditevent"): {"export_as_csv", "export_as_xlsx"},
    ("customers", "apikey"): {"export_as_csv", "export_as_xlsx", "revoke_selected"},
    ("invoices", "invoice"): {"reverse_in_full", "resend", "export_register_csv", "export_register_xlsx"},
    ("invoices", "invoicerequest"): {"issue_requested"},
}
# (app_label, model_name, "add" | "change") tested below.
COVERED_FORMS = {
    ("billing", "priceversion", "add"),
    ("billing", "priceversion", "change"),
    ("billing", "modelalias", "add"),
    ("billing", "modelalias", "change"),
    ("billing", "defaultprovider", "add"),
    ("billing", "defaultprovider", "change"),
    ("billing", "exchangerate", "add"),
    ("billing", "exchangerate", "change"),
    ("billing", "quarantinedrecord", "change"),
    ("billing", "payment", "add"),  # tests/admin/test_payments_admin.py
    ("billing", "sellerprofile", "add"),
    ("billing", "sellerprofile", "change"),
    ("billing", "budget", "add"),
    ("billing", "budget", "change"),
    ("customers", "customer", "add"),
    ("customers", "customer", "change"),
    ("customers", "contract", "add"),
    ("customers", "contract", "change"),
    ("customers", "project", "add"),
    ("customers", "project", "change"),
    ("customers", "apikey", "add"),
    ("customers", "apikey", "change"),
    ("customers", "portaluser", "add"),
    ("customers", "portaluser", "change"),
    ("customers", "apitoken", "change"),
    ("presales", "proposaltemplate", "add"),
    ("presales", "proposaltemplate", "change"),
}
APPS = ("customers", "billing", "invoices", "presales")


def test_every_action_and_form_is_covered(clerk):
    request = RequestFactory().get("/admin/")
    request.user = clerk
    missing = []
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        if meta.app_label not in APPS:
            continue
        actions = set(model_admin.get_actions(request)) - {"delete_selected"}
        missing += [
            f"action {meta.label}.{a}" for a in actions - COVERED_ACTIONS.get((meta.app_label, meta.model_name), set())
        ]
        if model_admin.has_add_permission(request) and (meta.app_label, meta.model_name, "add") not in COVERED_FORMS:
            missing.append(f"add form {meta.label}")
        editable = [
            f
            for f in model_admin.get_fields(request, model())
            if f not in model_admin.get_readonly_fields(request, model())
        ]
        changeable = model_admin.has_change_permission(request, model()) and editable
        if changeable and (meta.app_label, meta.model_name, "change") not in COVERED_FORMS:
            missing.append(f"change form {meta.label}")
    assert not missing, missing


# --- The price book and rates ---------------------------------------------------------------


def test_it_adds_and_changes_a_price_version(clerk_client, clerk):
    url = admin_url(PriceVersion, "add")
    data = page_data(
        clerk_client,
        url,
        provider="openai",
        model="gpt-4.1",
        effective_from_0="2026-11-01",
        effective_from_1="00:00:00",
        currency="USD",
        input_per_mtok="2.00",
        cached_input_per_mtok="0.50",
        output_per_mtok="8.00",
        note="list price",
    )

    response = clerk_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    version = PriceVersion.objects.get(model="gpt-4.1")
    assert version.output_per_mtok == Decimal("8.00")
    assert version.source == PriceVersion.Source.ADMIN
    assert version.created_by == clerk

    change = admin_url(PriceVersion, "change", version.pk)
    response = clerk_client.post(change, page_data(clerk_client, change, output_per_mtok="7.50"))

    assert response.status_code == 302
    version.refresh_from_db()
    assert version.output_per_mtok == Decimal("7.50")


def test_it_adds_and_changes_a_model_alias(clerk_client):
    url = admin_url(ModelAlias, "add")
    response = clerk_client.post(url, page_data(clerk_client, url, provider="openai", alias="gpt4o", model="gpt-4o"))

    assert response.status_code == 302
    alias = ModelAlias.objects.get(alias="gpt4o")
    change = admin_url(ModelAlias, "change", alias.pk)
    clerk_client.post(change, page_data(clerk_client, change, model="gpt-4o-2024-08-06"))
    alias.refresh_from_db()
    assert alias.model == "gpt-4o-2024-08-06"


def test_it_adds_and_changes_a_default_provider_and_refuses_one_without_a_price(clerk_client):
    price_version("claude-sonnet-4-5", provider="anthropic", input="3", cached=None, output="15")
    price_version("claude-sonnet-4-5", provider="google", input="4", cached=None, output="16")
    url = admin_url(DefaultProvider, "add")
    response = clerk_client.post(url, page_data(clerk_client, url, model="claude-sonnet-4-5", provider="anthropic"))

    assert response.status_code == 302
    default = DefaultProvider.objects.get(model="claude-sonnet-4-5")
    assert default.provider == "anthropic"
    change = admin_url(DefaultProvider, "change", default.pk)
    clerk_client.post(change, page_data(clerk_client, change, provider="google"))
    default.refresh_from_db()
    assert default.provider == "google"
    # A provider the price book does not sell the model under is refused, naming the field.
    refused = clerk_client.post(change, page_data(clerk_client, change, provider="openai"))
    assert refused.status_code == 200
    assert "provider" in refused.context["adminform"].form.errors
    default.refresh_from_db()
    assert default.provider == "google"


def test_it_adds_and_changes_an_exchange_rate(clerk_client, clerk):
    url = admin_url(ExchangeRate, "add")
    response = clerk_client.post(url, page_data(clerk_client, url, currency="USD", period="2026-12-15", rate="7.1234"))

    assert response.status_code == 302
    rate = ExchangeRate.objects.get(currency="USD", period=date(2026, 12, 1))  # the month, whatever the day
    assert rate.rate == Decimal("7.1234")
    assert rate.updated_by == clerk
    change = admin_url(ExchangeRate, "change", rate.pk)
    clerk_client.post(change, page_data(clerk_client, change, rate="7.2000"))
    rate.refresh_from_db()
    assert rate.rate == Decimal("7.2000")


def test_it_resolves_a_quarantined_record_on_its_page_and_in_bulk(clerk_client):
    first = QuarantinedRecord.objects.create(
        request_id="bad-1", batch_index=0, payload={"model": ""}, errors={"model": ["必填"]}
    )
    second = QuarantinedRecord.objects.create(
        request_id="bad-2", batch_index=1, payload={}, errors={"key_id": ["未知"]}
    )
    change = admin_url(QuarantinedRecord, "change", first.pk)

    response = clerk_client.post(
        change,
        page_data(
            clerk_client, change, resolved_at_0="2026-11-05", resolved_at_1="10:00:00", resolution_note="网关已修复"
        ),
    )
    action(clerk_client, QuarantinedRecord, "mark_resolved", [second])

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.resolution_note == "网关已修复"
    assert first.resolved_at is not None
    assert second.resolved_at is not None


def test_it_adds_and_changes_the_seller_profile(clerk_client, seller):
    url = admin_url(SellerProfile, "add")
    data = page_data(
        clerk_client,
        url,
        effective_from="2027-01-01",
        name="上海智算科技有限公司",
        tax_id=seller.tax_id,
        province_code="31",
        address="上海市浦东新区张江路99号",
        phone="021-55550001",
        bank_name="招商银行上海张江支行",
        bank_account="121900000000002",
        issuing_clerk="李会计",
    )

    response = clerk_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    profile = SellerProfile.objects.get(effective_from=date(2027, 1, 1))
    assert profile.address == "上海市浦东新区张江路99号"
    change = admin_url(SellerProfile, "change", profile.pk)
    clerk_client.post(change, page_data(clerk_client, change, issuing_clerk="赵会计"))
    profile.refresh_from_db()
    assert profile.issuing_clerk == "赵会计"


def test_it_adds_and_changes_a_budget(clerk_client, acme):
    url = admin_url(Budget, "add")
    data = page_data(
        clerk_client,
        url,
        customer=acme.pk,
        scope="customer",
        monthly_amount="5000.00",
        currency="CNY",
        thresholds="50,80,100",
        channels="ap@acme.example.cn",
    )

    response = clerk_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    budget = Budget.objects.get(customer=acme)
    assert budget.monthly_amount == Decimal("5000.00")
    assert budget.thresholds == [50, 80, 100]
    change = admin_url(Budget, "change", budget.pk)
    clerk_client.post(change, page_data(clerk_client, change, monthly_amount="8000.00", hard_limit="on"))
    budget.refresh_from_db()
    assert budget.monthly_amount == Decimal("8000.00")
    assert budget.hard_limit is True


# --- Customers ----------------------------------------------------------------------------------


def test_it_adds_and_changes_a_customer(clerk_client):
    url = admin_url(Customer, "add")
    response = clerk_client.post(
        url,
        page_data(
            clerk_client, url, code="NEWCO", name="新公司有限公司", tax_id=valid_uscc(4242), email="ap@newco.example.cn"
        ),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    customer = Customer.objects.get(code="NEWCO")
    assert customer.invoice_titles.filter(is_default=True).count() == 1
    change = admin_url(Customer, "change", customer.pk)
    clerk_client.post(change, page_data(clerk_client, change, address="上海市静安区南京西路1号"))
    customer.refresh_from_db()
    assert customer.address == "上海市静安区南京西路1号"


def test_it_adds_and_changes_a_contract(clerk_client, other_customer):
    newco = Customer.objects.create(code="NEWCO", name="新公司有限公司", tax_id=valid_uscc(4343))
    url = admin_url(Contract, "add")
    data = page_data(
        clerk_client,
        url,
        customer=newco.pk,
        number="HT-NEWCO-1",
        status="active",
        starts_on="2026-12-01",
        payment_terms_days="30",
        price_currency="USD",
        discount_percent="5",
        vat_rate="0.06",
        invoice_type="special",
        invoice_timing="before_payment",
        minimum_monthly_commitment_0="0",
        minimum_monthly_commitment_1="CNY",
    )

    response = clerk_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    contract = Contract.objects.get(number="HT-NEWCO-1")
    assert contract.discount_percent == Decimal("5")
    change = admin_url(Contract, "change", contract.pk)
    clerk_client.post(change, page_data(clerk_client, change, payment_terms_days="45"))
    contract.refresh_from_db()
    assert contract.payment_terms_days == 45


def test_it_adds_and_changes_a_project(clerk_client, acme):
    url = admin_url(Project, "add")
    response = clerk_client.post(url, page_data(clerk_client, url, customer=acme.pk, code="bi", name="数据分析"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    project = Project.objects.get(customer=acme, code="bi")
    change = admin_url(Project, "change", project.pk)
    clerk_client.post(change, page_data(clerk_client, change, name="商业智能"))
    project.refresh_from_db()
    assert project.name == "商业智能"


def test_it_creates_an_api_key_and_revokes_it(clerk_client, clerk, acme_project):
    url = admin_url(ApiKey, "add")
    response = clerk_client.post(url, page_data(clerk_client, url, project=acme_project.pk, name="batch jobs"))

    key = ApiKey.objects.get(name="batch jobs")
    assert response.status_code == 302
    assert key.created_by == clerk
    assert any("ak_" in m for m in messages_of(response))  # the secret, once

    action(clerk_client, ApiKey, "revoke_selected", [key])

    key.refresh_from_db()
    assert key.revoked_at is not None


def test_it_maps_an_api_key_to_a_gateway_id_on_its_page(clerk_client, clerk, acme_project):
    key, _secret = api_key_for(acme_project)
    url = admin_url(ApiKey, "change", key.pk)

    response = clerk_client.post(url, page_data(clerk_client, url, external_id="newapi:12"))

    assert response.status_code == 302
    key.refresh_from_db()
    assert key.external_id == "newapi:12"
    assert AuditEvent.objects.get(action=AuditEvent.Action.API_KEY_MAPPED).actor == clerk


def test_it_adds_and_changes_a_portal_user(clerk_client, acme):
    user = UserFactory(username="dora")
    url = admin_url(PortalUser, "add")
    response = clerk_client.post(url, page_data(clerk_client, url, user=user.pk, customer=acme.pk, role="finance"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    membership = PortalUser.objects.get(user=user)
    change = admin_url(PortalUser, "change", membership.pk)
    clerk_client.post(change, page_data(clerk_client, change, role="developer"))
    membership.refresh_from_db()
    assert membership.role == "developer"


def test_it_revokes_an_api_token_on_its_page(clerk_client, alice):
    token, _value = api_token_create(user=alice, name="ci")
    change = admin_url(ApiToken, "change", token.pk)

    response = clerk_client.post(
        change, page_data(clerk_client, change, revoked_at_0="2026-11-05", revoked_at_1="12:00:00")
    )

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


# --- Bills ----------------------------------------------------------------------------------------


@pytest.fixture
def held_draft(acme_project, seller) -> Bill:
    """ACME's October bill held in draft: its usage is of a fine-tuned model with no price."""
    key, _secret = api_key_for(acme_project, name="ft")
    records = [
        {
            "request_id": f"ft-{i}",
            "key_id": key.key_id,
            "provider": "openai",
            "model": "acme-ft-v2",
            "input_tokens": 1000,
            "output_tokens": 1_000_000,
            "occurred_at": "2026-10-15T10:00:00+08:00",
        }
        for i in range(3)
    ]
    result = usage_ingest_batch(records=records, now=datetime(2026, 10, 20, tzinfo=SHANGHAI))
    assert result.unpriced == 3
    (outcome,) = month_close_customer(customer=acme_project.customer, period=date(2026, 10, 1), today=date(2026, 11, 2))
    assert outcome.bill.status == Bill.Status.DRAFT
    return outcome.bill


def add_finetune_price():
    price_version_set(
        provider="openai",
        model="acme-ft-v2",
        effective_from=datetime(2026, 1, 1, tzinfo=SHANGHAI),
        currency="CNY",
        input_per_mtok=Decimal("0"),
        cached_input_per_mtok=None,
        output_per_mtok=Decimal("100"),
    )


def test_it_tells_what_to_do_on_a_held_draft_then_reprices_and_closes(clerk_client, held_draft):
    page = clerk_client.get(admin_url(Bill, "change", held_draft.pk)).content.decode()
    assert "添加 openai/acme-ft-v2 的价格" in page
    assert admin_url(PriceVersion, "add") + "?provider=openai&amp;model=acme-ft-v2" in page

    add_finetune_price()
    response = action(clerk_client, Bill, "reprice_and_close", [held_draft])

    held_draft.refresh_from_db()
    assert held_draft.status == Bill.Status.ISSUED
    assert held_draft.number == "BILL-ACME-202610"
    assert held_draft.subtotal.amount == Decimal("300.00")  # 3 × 1 M output tokens × ¥100
    assert not UsageRollup.objects.filter(price_version__isnull=True).exists()
    assert any("3" in m for m in messages_of(response))


def test_the_link_to_the_missing_price_fills_in_the_held_usages_earliest_time(clerk_client, held_draft):
    page = clerk_client.get(admin_url(Bill, "change", held_draft.pk)).content.decode()
    assert "生效时间不晚于 2026-10-15 10:00" in page
    steps = held_draft_steps(held_draft)
    url = steps[0][1]
    assert "effective_from=2026-10-15T10%3A00%3A00%2B08%3A00" in url
    form = clerk_client.get(url).context["adminform"].form
    assert form.initial["provider"] == "openai" and form.initial["model"] == "acme-ft-v2"
    assert form.initial["effective_from"] == datetime(2026, 10, 15, 10, 0, tzinfo=SHANGHAI)
    html = clerk_client.get(url).content.decode()
    assert 'name="effective_from_0" value="2026/10/15"' in html
    assert 'name="effective_from_1" value="10:00"' in html


def test_reprice_says_why_nothing_was_repriced_in_the_readers_language(clerk_client, held_draft):
    # The price added with the form's "today / now": it starts after the held usage.
    price_version_set(
        provider="openai",
        model="acme-ft-v2",
        effective_from=datetime(2026, 11, 20, 9, 30, tzinfo=SHANGHAI),
        currency="CNY",
        input_per_mtok=Decimal("0"),
        cached_input_per_mtok=None,
        output_per_mtok=Decimal("100"),
    )
    response = action(clerk_client, Bill, "reprice_and_close", [held_draft])
    shown = messages_of(response)
    held_draft.refresh_from_db()
    assert held_draft.status == Bill.Status.DRAFT
    assert any(
        "价格的生效时间晚于暂扣的用量：用量最早 2026-10-15 10:00，价格自 2026-11-20 09:30 起生效" in m for m in shown
    ), shown
    assert any("仍暂扣为草稿" in m and f"草稿 #{held_draft.pk}" in m for m in shown), shown
    assert not any("HELD" in m or " CNY" in m or "draft #" in m for m in shown), shown


def test_reprice_and_close_reports_the_issued_bill_in_the_readers_language(clerk_client, held_draft):
    add_finetune_price()
    shown = messages_of(action(clerk_client, Bill, "reprice_and_close", [held_draft]))
    assert "BILL-ACME-202610（ACME，2026-10）：已出账，合计 ¥318.00。" in shown, shown


def test_this_months_unpriced_usage_is_repriced_from_the_daily_usage_list(clerk_client, acme_project):
    key, _secret = api_key_for(acme_project, name="ft-now")
    records = [
        {
            "request_id": f"ft-now-{i}",
            "key_id": key.key_id,
            "provider": "openai",
            "model": "acme-ft-v2",
            "input_tokens": 1000,
            "output_tokens": 1_000_000,
            "occurred_at": "2026-11-03T10:12:00+08:00",
        }
        for i in range(2)
    ]
    assert usage_ingest_batch(records=records, now=datetime(2026, 11, 4, tzinfo=SHANGHAI)).unpriced == 2
    rows = list(UsageRollup.objects.filter(price_version__isnull=True))

    shown = messages_of(action(clerk_client, UsageRollup, "reprice_unpriced", rows))
    assert any("已重新计价 0 条" in m for m in shown), shown
    assert any("acme-ft-v2 仍没有价格（2 次调用，最早 2026-11-03 10:12）" in m for m in shown), shown

    add_finetune_price()
    shown = messages_of(action(clerk_client, UsageRollup, "reprice_unpriced", rows))
    assert any("已重新计价 2 条" in m for m in shown), shown
    assert not UsageRollup.objects.filter(price_version__isnull=True, requests__gt=0).exists()


def test_it_closes_a_draft_again_once_the_cause_is_fixed(clerk_client, held_draft):
    add_finetune_price()
    from billing.metering.reprice import usage_reprice

    usage_reprice(period=date(2026, 10, 1))

    action(clerk_client, Bill, "close_again", [held_draft])

    held_draft.refresh_from_db()
    assert held_draft.status == Bill.Status.ISSUED


def test_it_regenerates_a_bill_pdf(clerk_client, acme_bill):
    response = action(clerk_client, Bill, "render_pdf", [acme_bill])

    acme_bill.refresh_from_db()
    assert response.status_code == 302
    assert acme_bill.pdf.name.endswith(".pdf")
    assert BillEvent.objects.filter(bill=acme_bill, kind="pdf_rendered").exists()


def test_it_voids_a_bill_after_asking_for_the_reason_and_reissues_it(clerk_client, clerk, acme_bill):
    page = action(clerk_client, Bill, "void_bills", [acme_bill])
    assert page.status_code == 200
    assert page.templates[0].name == "admin/action_confirmation.html"
    assert acme_bill.number in page.content.decode()

    no_reason = confirm(clerk_client, Bill, "void_bills", [acme_bill], reason="")
    assert no_reason.status_code == 200
    assert "reason" in no_reason.context["form"].errors
    acme_bill.refresh_from_db()
    assert acme_bill.status == Bill.Status.ISSUED

    confirm(clerk_client, Bill, "void_bills", [acme_bill], reason="合同折扣录入错误")
    acme_bill.refresh_from_db()
    assert acme_bill.status == Bill.Status.VOID
    assert BillEvent.objects.get(bill=acme_bill, kind="void").data["reason"] == "合同折扣录入错误"

    action(clerk_client, Bill, "reissue_bills", [acme_bill])
    reissued = Bill.objects.get(replaces=acme_bill)
    assert reissued.number == "BILL-ACME-202610-R1"
    assert reissued.status == Bill.Status.ISSUED


def test_it_issues_an_invoice_from_the_bill_with_the_chosen_type_and_title(clerk_client, clerk, acme_bill):
    title = acme_bill.customer.invoice_titles.create(name="上海阿克米分公司", tax_id=valid_uscc(5151), is_default=False)
    InvoiceRequest.objects.create(customer=acme_bill.customer, bill=acme_bill, invoice_type="special")

    page = action(clerk_client, Bill, "issue_invoice", [acme_bill])
    assert page.status_code == 200
    assert "上海阿克米分公司" in page.content.decode()  # the customer's titles are offered

    confirm(clerk_client, Bill, "issue_invoice", [acme_bill], invoice_type="ordinary", title=title.pk)

    (invoice,) = Invoice.objects.filter(bill=acme_bill)
    assert invoice.invoice_type == "ordinary"
    assert invoice.title == title
    assert invoice.buyer["name"] == "上海阿克米分公司"
    assert invoice.created_by == clerk
    assert invoice.total == acme_bill.total
    # The customer's request for this bill is answered.
    assert InvoiceRequest.objects.get(bill=acme_bill).status == InvoiceRequest.Status.ISSUED


def test_it_reports_a_bill_that_cannot_be_invoiced_and_issues_nothing(clerk_client, acme_bill):
    invoice_issue(bill=acme_bill)

    response = confirm(clerk_client, Bill, "issue_invoice", [acme_bill], invoice_type="")

    assert Invoice.objects.filter(bill=acme_bill).count() == 1
    assert any(acme_bill.number in m and "已全额开票" in m for m in messages_of(response)), messages_of(response)


# --- Invoices -------------------------------------------------------------------------------------


def test_it_reverses_an_invoice_after_asking_for_the_reason(clerk_client, acme_bill):
    (blue,) = invoice_issue(bill=acme_bill)

    page = action(clerk_client, Invoice, "reverse_in_full", [blue])
    assert page.status_code == 200
    assert blue.number in page.content.decode()
    confirm(clerk_client, Invoice, "reverse_in_full", [blue], reason="2", amount="", note="抬头错误")

    blue.refresh_from_db()
    red = Invoice.objects.get(original=blue)
    assert blue.status == Invoice.Status.REVERSED
    assert red.total.amount == -blue.total.amount
    assert red.red_reason == 2


def test_it_reverses_part_of_an_invoice_for_a_discount_only(clerk_client, acme_bill):
    (blue,) = invoice_issue(bill=acme_bill)

    refused = confirm(clerk_client, Invoice, "reverse_in_full", [blue], reason="2", amount="100.00")
    assert refused.status_code == 200
    assert "amount" in refused.context["form"].errors
    assert not Invoice.objects.filter(original=blue).exists()

    confirm(clerk_client, Invoice, "reverse_in_full", [blue], reason="4", amount="100.00", note="年度折让")

    red = Invoice.objects.get(original=blue)
    assert red.amount.amount == Decimal("-100.00")
    assert red.vat.amount == Decimal("-6.00")
    blue.refresh_from_db()
    assert blue.status == Invoice.Status.PARTIALLY_REVERSED


def test_it_resends_an_invoice_by_email(clerk_client, acme_bill, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        (blue,) = invoice_issue(bill=acme_bill)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        action(clerk_client, Invoice, "resend", [blue])

    assert len(mail.outbox) == 1
    assert blue.number in mail.outbox[0].subject + mail.outbox[0].body


def test_it_exports_the_invoice_register(clerk_client, acme_bill):
    (blue,) = invoice_issue(bill=acme_bill)

    as_csv = action(clerk_client, Invoice, "export_register_csv", [blue])
    as_xlsx = action(clerk_client, Invoice, "export_register_xlsx", [blue])

    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[1][0] == blue.number
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet.cell(row=2, column=1).value == blue.number


def test_it_issues_requested_invoices(clerk_client, acme_bill, alice):
    request = InvoiceRequest.objects.create(
        customer=acme_bill.customer, bill=acme_bill, invoice_type="special", requested_by=alice
    )

    action(clerk_client, InvoiceRequest, "issue_requested", [request])

    request.refresh_from_db()
    assert request.status == InvoiceRequest.Status.ISSUED
    assert Invoice.objects.filter(bill=acme_bill, invoice_type="special").count() == 1


def test_it_never_lets_a_request_status_be_typed(clerk_client, acme_bill):
    request = InvoiceRequest.objects.create(customer=acme_bill.customer, bill=acme_bill, invoice_type="special")
    change = admin_url(InvoiceRequest, "change", request.pk)

    page = clerk_client.get(change)
    posted = clerk_client.post(change, {"status": "issued"})

    assert 'name="status"' not in page.content.decode()
    assert posted.status_code == 403
    request.refresh_from_db()
    assert request.status == InvoiceRequest.Status.OPEN
    assert clerk_client.get(admin_url(InvoiceRequest, "add")).status_code == 403


# --- Exports of every list --------------------------------------------------------------------------


@pytest.fixture
def one_of_each(acme_bill, acme_project, alice):
    key, _secret = api_key_for(acme_project, name="export")
    Payment.objects.create(
        customer=acme_bill.customer, bill=acme_bill, amount=Money("10.00", "CNY"), received_on=date(2026, 11, 3)
    )
    Alert.objects.create(
        customer=acme_bill.customer,
        kind="threshold",
        threshold=50,
        period=date(2026, 11, 1),
        amount="10",
        message="50%",
        dedupe_key="t",
    )
    QuarantinedRecord.objects.create(request_id="bad", batch_index=0, payload={}, errors={"model": ["必填"]})
    ExchangeRate.objects.create(currency="USD", period=date(2026, 11, 1), rate="7.1")
    version = price_version_set(
        provider="openai",
        model="gpt-4o",
        effective_from=datetime(2026, 1, 1, tzinfo=SHANGHAI),
        currency="USD",
        input_per_mtok=Decimal("2.5"),
        cached_input_per_mtok=None,
        output_per_mtok=Decimal("10"),
    )[0]
    usage_ingest_batch(
        records=[
            {
                "request_id": "x-1",
                "key_id": key.key_id,
                "model": "gpt-4o",
                "input_tokens": 10,
                "output_tokens": 5,
                "occurred_at": "2026-11-03T10:00:00+08:00",
            }
        ],
        now=datetime(2026, 11, 4, tzinfo=SHANGHAI),
    )
    return {
        PriceVersion: version,
        ExchangeRate: ExchangeRate.objects.get(),
        UsageRollup: UsageRollup.objects.get(),
        QuarantinedRecord: QuarantinedRecord.objects.get(),
        Bill: acme_bill,
        Payment: Payment.objects.get(),
        Alert: Alert.objects.get(),
        Customer: acme_bill.customer,
        Contract: Contract.objects.get(customer=acme_bill.customer),
        ApiKey: key,
        AuditEvent: AuditEvent.objects.filter(action="price_version_set").first(),
    }


@pytest.mark.parametrize(
    "model",
    [
        PriceVersion,
        ExchangeRate,
        UsageRollup,
        QuarantinedRecord,
        Bill,
        Payment,
        Alert,
        Customer,
        Contract,
        ApiKey,
        AuditEvent,
    ],
    ids=lambda m: m.__name__,
)
def test_it_exports_the_selected_rows_as_csv_and_xlsx(clerk_client, one_of_each, model):
    obj = one_of_each[model]

    response = action(clerk_client, model, "export_as_csv", [obj])
    workbook = action(clerk_client, model, "export_as_xlsx", [obj])

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2  # header + the one selected row
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert sheet.max_row == 2
    assert [c.value for c in sheet[1]] == rows[0]


def test_it_keeps_credit_entries_read_only(clerk_client, acme):
    entry = CreditEntry.objects.create(customer=acme, amount=Money("5.00", "CNY"))

    page = clerk_client.get(admin_url(CreditEntry, "change", entry.pk))

    assert page.status_code == 200
    assert "查看" in page.content.decode()
    assert clerk_client.get(admin_url(CreditEntry, "add")).status_code == 403


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_it_shows_every_changelist_and_add_page_to_finance(clerk_client, one_of_each, language):
    for model in admin.site._registry:
        if model._meta.app_label not in APPS:
            continue
        listing = clerk_client.get(admin_url(model, "changelist"), HTTP_ACCEPT_LANGUAGE=language)
        assert listing.status_code == 200, model
        if model in one_of_each:
            page = clerk_client.get(admin_url(model, "change", one_of_each[model].pk), HTTP_ACCEPT_LANGUAGE=language)
            assert page.status_code == 200, model


# --- Presales ----------------------------------------------------------------------------------


def test_it_adds_and_changes_a_proposal_template_and_only_one_is_used(clerk_client):
    old = ProposalTemplate.objects.create(name="旧条款", sla_text="99%", support_text="工作日", terms_text="旧")
    url = admin_url(ProposalTemplate, "add")
    data = page_data(
        clerk_client,
        url,
        name="标准条款",
        is_active="on",
        sla_text="月可用性 99.9%",
        support_text="7×24 小时工单",
        terms_text="按实际用量月结",
    )

    response = clerk_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    template = ProposalTemplate.objects.get(name="标准条款")
    assert template.is_active
    old.refresh_from_db()
    assert not old.is_active  # new proposal versions copy one template only
    change = admin_url(ProposalTemplate, "change", template.pk)
    clerk_client.post(change, page_data(clerk_client, change, sla_text="月可用性 99.95%"))
    template.refresh_from_db()
    assert template.sla_text == "月可用性 99.95%"
