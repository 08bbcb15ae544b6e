"""The Django admin for customers: every page loads in Chinese and English, key secrets
are shown once, and the customer form checks the USCC unless staff override it."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation

from customers import services
from customers.models import ApiKey, Customer, Project
from tests.factories import api_key_for

pytestmark = pytest.mark.django_db

CUSTOMERS_MODELS = sorted(
    (model for model in admin.site._registry if model._meta.app_label == "customers"), key=lambda m: m.__name__
)
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def names(model, language: str) -> tuple[str, str]:
    with translation.override(language):
        return str(model._meta.verbose_name), str(model._meta.verbose_name_plural)


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_it_registers_every_customers_model_that_staff_edit():
    assert {m.__name__ for m in CUSTOMERS_MODELS} == {
        "ApiKey",
        "ApiToken",
        "AuditEvent",
        "Contract",
        "Customer",
        "PortalUser",
        "Project",
    }


@pytest.mark.parametrize("model", CUSTOMERS_MODELS, ids=lambda m: m.__name__)
def test_it_shows_the_changelist_in_chinese_by_default_and_in_english_on_request(
    admin_client, model, acme_project, alice
):
    api_key_for(acme_project)
    services.api_token_create(user=alice)
    zh_plural = names(model, "zh-hans")[1]
    en_plural = names(model, "en")[1]
    assert zh_plural != en_plural  # the catalogue translates it

    chinese = admin_client.get(admin_url(model, "changelist"))
    english = admin_client.get(admin_url(model, "changelist"), **EN)

    assert chinese.status_code == english.status_code == 200
    assert zh_plural in chinese.content.decode()
    assert en_plural.lower() in english.content.decode().lower()
    assert zh_plural not in english.content.decode()


@pytest.mark.parametrize(
    "model", [m for m in CUSTOMERS_MODELS if m.__name__ not in {"ApiToken", "AuditEvent"}], ids=lambda m: m.__name__
)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_it_shows_the_add_page(admin_client, model, language, acme):
    response = admin_client.get(admin_url(model, "add"), HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 200
    assert names(model, language)[0] in response.content.decode()


def test_it_refuses_to_add_api_tokens_in_the_admin(admin_client):
    # Tokens come from create_api_token, which prints them once.
    assert admin_client.get(admin_url(ApiKey._meta.apps.get_model("customers", "ApiToken"), "add")).status_code == 403


def test_it_shows_change_pages_in_both_languages(admin_client, acme_project, alice):
    key, _secret = api_key_for(acme_project)
    contract = acme_project.customer.contracts.get()
    pages = [
        admin_url(Customer, "change", acme_project.customer.pk),
        admin_url(type(contract), "change", contract.pk),
        admin_url(Project, "change", acme_project.pk),
        admin_url(ApiKey, "change", key.pk),
        admin_url(type(alice.portal), "change", alice.portal.pk),
    ]

    for url in pages:
        assert admin_client.get(url).status_code == 200, url
        assert admin_client.get(url, **EN).status_code == 200, url
    assert "统一社会信用代码" in admin_client.get(pages[0]).content.decode()
    assert "Unified social credit code" in admin_client.get(pages[0], **EN).content.decode()


def test_it_shows_an_api_key_secret_once_when_created_in_the_admin(admin_client, admin_user, acme_project):
    response = admin_client.post(
        admin_url(ApiKey, "add"), {"project": acme_project.pk, "name": "from admin"}, follow=True
    )

    assert response.status_code == 200
    key = ApiKey.objects.get(name="from admin")
    assert key.customer == acme_project.customer
    assert key.created_by == admin_user
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    match = re.search(r"<code>(sk_[A-Za-z0-9_-]+)</code>", response.content.decode())
    assert match, shown
    secret = match.group(1)
    assert len(shown) == 2
    assert all(key.key_id in message for message in shown)  # the "added" notice names the key too
    assert LogEntry.objects.get().object_repr == key.key_id
    assert services.api_key_authenticate(key_id=key.key_id, secret=secret) == key

    change_page = admin_client.get(admin_url(ApiKey, "change", key.pk)).content.decode()
    changelist = admin_client.get(admin_url(ApiKey, "changelist")).content.decode()
    customer_page = admin_client.get(admin_url(Customer, "change", key.customer_id)).content.decode()
    for page in (change_page, changelist, customer_page):
        assert key.key_id in page
        assert secret not in page
    assert key.secret_hint in change_page


def test_it_refuses_a_key_for_an_archived_project_in_the_admin(admin_client, acme_project):
    Project.objects.filter(pk=acme_project.pk).update(is_active=False)

    response = admin_client.post(admin_url(ApiKey, "add"), {"project": acme_project.pk, "name": "late"}, **EN)

    assert response.status_code == 200  # the form again, with the error
    assert "archived" in response.content.decode()
    assert "added successfully" not in response.content.decode()
    assert not ApiKey.objects.exists()


def test_it_revokes_keys_with_the_admin_action(admin_client, acme_project):
    key, secret = api_key_for(acme_project)

    response = admin_client.post(
        admin_url(ApiKey, "changelist"), {"action": "revoke_selected", "_selected_action": [key.pk]}, follow=True
    )

    assert response.status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert services.api_key_authenticate(key_id=key.key_id, secret=secret) is None


def test_it_does_not_offer_to_delete_api_keys(admin_client, acme_project):
    key, _secret = api_key_for(acme_project)

    assert admin_client.get(admin_url(ApiKey, "delete", key.pk)).status_code == 403


def customer_form(admin_client, **fields) -> dict:
    """The add form's fields with empty inline formsets."""
    page = admin_client.get(admin_url(Customer, "add"))
    data = {
        "code": "NEWCO",
        "name": "新公司有限公司",
        "is_active": "on",
        "tax_id": "9144030071526726XG",
        "address": "",
        "phone": "",
        "bank_name": "",
        "bank_account": "",
        "email": "ap@newco.example.cn",
        "billing_cc": "",
    }
    for formset in page.context["inline_admin_formsets"]:
        prefix = formset.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
    data.update(fields)
    return data


def test_it_creates_a_customer_with_a_valid_uscc_in_the_admin(admin_client):
    response = admin_client.post(admin_url(Customer, "add"), customer_form(admin_client, tax_id="9144030071526726xg"))

    assert response.status_code == 302
    customer = Customer.objects.get(code="NEWCO")
    assert customer.tax_id == "9144030071526726XG"
    assert customer.tax_id_override is False


def test_it_refuses_a_bad_uscc_in_the_admin_unless_overridden(admin_client, admin_user):
    bad = "9144030071526726X0"

    refused = admin_client.post(admin_url(Customer, "add"), customer_form(admin_client, tax_id=bad), **EN)

    assert refused.status_code == 200
    assert "tax_id" in refused.context["adminform"].form.errors
    assert "check character" in refused.content.decode()
    assert not Customer.objects.filter(code="NEWCO").exists()

    accepted = admin_client.post(
        admin_url(Customer, "add"), customer_form(admin_client, tax_id=bad, tax_id_override="on")
    )

    assert accepted.status_code == 302
    customer = Customer.objects.get(code="NEWCO")
    assert customer.tax_id == bad
    assert customer.tax_id_override is True
    assert customer.tax_id_override_by == admin_user


def test_it_explains_a_bad_uscc_in_chinese_by_default(admin_client):
    refused = admin_client.post(admin_url(Customer, "add"), customer_form(admin_client, tax_id="9144030071526726X0"))

    assert refused.status_code == 200
    assert "校验码错误（应为 G）" in refused.content.decode()
    assert "税号校验已人工豁免" in refused.content.decode()


def test_it_refuses_an_overlapping_active_contract_in_the_admin(admin_client, acme):
    response = admin_client.post(
        admin_url(acme.contracts.model, "add"),
        {
            "customer": acme.pk,
            "number": "HT-ADMIN",
            "status": "active",
            "starts_on": "2026-05-01",
            "ends_on": "",
            "signed_on": "",
            "payment_terms_days": "30",
            "price_currency": "USD",
            "discount_percent": "0",
            "fixed_exchange_rate": "",
            "minimum_monthly_commitment_0": "0",
            "minimum_monthly_commitment_1": "CNY",
            "vat_rate": "0.06",
            "invoice_type": "special",
            "invoice_timing": "before_payment",
            "notes": "",
        },
        **EN,
    )

    assert response.status_code == 200
    assert "HT-ACME-1" in response.content.decode()
    assert "starts_on" in response.context["adminform"].form.errors
    assert not acme.contracts.filter(number="HT-ADMIN").exists()


def test_it_gives_a_customer_added_in_the_admin_its_default_invoice_title(db, client):
    from django.contrib.auth import get_user_model

    from customers.models import Customer
    from tests.factories import valid_uscc

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456789")
    client.force_login(admin)
    response = client.post(
        "/admin/customers/customer/add/",
        {
            "code": "NEWCO",
            "name": "新公司有限公司",
            "is_active": "on",
            "tax_id": valid_uscc(42),
            "address": "",
            "phone": "",
            "bank_name": "",
            "bank_account": "",
            "email": "ap@newco.example.cn",
            "billing_cc": "",
            **{f"{p}-TOTAL_FORMS": "0" for p in ("contracts", "projects", "api_keys", "invoice_titles")},
            **{f"{p}-INITIAL_FORMS": "0" for p in ("contracts", "projects", "api_keys", "invoice_titles")},
        },
    )
    assert response.status_code == 302, response.content[:2000]
    customer = Customer.objects.get(code="NEWCO")
    title = customer.invoice_titles.get()
    assert title.is_default and title.name == "新公司有限公司" and title.tax_id == customer.tax_id
