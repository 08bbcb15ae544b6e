"""/portal/keys/: keys by project with status and last use; an admin creates one (the secret
on the answer page only, kept as a digest) and revokes one after a confirmation page; a
developer reads only; another customer's key is 404."""

from __future__ import annotations

import re
from datetime import date

import pytest

from billing.metering.ingest import usage_ingest_batch
from customers.models import ApiKey, secret_digest
from tests.billing.alerts_helpers import meter_price, spend
from tests.factories import ProjectFactory, api_key_for
from tests.portal.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_key(acme_project):
    key, _secret = api_key_for(acme_project, name="生产")
    return key


def test_the_list_shows_keys_by_project_with_status_and_last_use(alice_portal, acme, acme_key, acme_project):
    meter_price()
    usage_ingest_batch(records=[spend(acme_key.key_id, "3", date(2026, 11, 3))])
    revoked, _ = api_key_for(ProjectFactory(customer=acme, code="search", name="搜索"), name="old")
    alice_portal.post(f"/portal/keys/{revoked.key_id}/revoke/")
    html = alice_portal.get("/portal/keys/").content.decode()
    row = re.search(rf'<tr id="key-{acme_key.key_id}">.*?</tr>', html, re.S).group(0)
    assert "生产" in row and "生效中" in row and "2026-11-03" in row
    old = re.search(rf'<tr id="key-{revoked.key_id}">.*?</tr>', html, re.S).group(0)
    assert "已撤销" in old and "从未" in old
    assert html.index('data-project="chatbot"') < html.index(acme_key.key_id)


def test_an_admin_creates_a_key_and_sees_its_secret_once(alice_portal, acme_project):
    answer = alice_portal.post("/portal/keys/", {"project": "chatbot", "name": "新服务"})
    assert answer.status_code == 201
    assert answer["Cache-Control"].startswith("max-age=0") and "no-store" in answer["Cache-Control"]
    html = answer.content.decode()
    secret = re.search(r'id="key-secret">(sk_[\w-]+)<', html).group(1)
    # The copy button's script is a file: the CSP (script-src 'self') refuses inline ones.
    assert 'id="copy-secret"' in html and '<script src="/static/portal/copy.js"></script>' in html
    assert "<script>" not in html and " onclick=" not in html
    key = ApiKey.objects.get(name="新服务")
    assert key.project == acme_project and key.secret_digest == secret_digest(secret)
    assert secret not in key.secret_digest and key.secret_hint == secret[-4:]
    listing = alice_portal.get("/portal/keys/").content.decode()
    assert key.key_id in listing and secret not in listing


@pytest.mark.parametrize(
    ("language", "fields", "field", "message"),
    [
        ("zh-hans", {"project": "chatbot", "name": ""}, "name", "该字段是必填项。"),
        ("en", {"project": "chatbot", "name": ""}, "name", "This field is required."),
        ("zh-hans", {"project": "nope", "name": "x"}, "project", "选择一个有效的选项"),
        ("en", {"project": "nope", "name": "x"}, "project", "Select a valid choice"),
    ],
)
def test_a_bad_key_form_is_shown_again_with_the_error_beside_the_field(
    alice, acme_project, language, fields, field, message
):
    page = signed_in(alice, language).post("/portal/keys/", fields)
    assert page.status_code == 200
    html = page.content.decode()
    errors = re.search(rf'<div class="field has-error" id="field-{field}">.*?</div>', html, re.S).group(0)
    assert message in errors
    assert not ApiKey.objects.exists()


def test_a_project_archived_since_the_page_was_shown_is_refused_beside_the_project(alice, acme_project):
    from customers.models import Project

    page_form = signed_in(alice, "en")
    Project.objects.filter(pk=acme_project.pk).update(is_active=False)
    html = page_form.post("/portal/keys/", {"project": "chatbot", "name": "x"}).content.decode()
    assert 'id="field-project"' in html and "Select a valid choice" in html
    assert not ApiKey.objects.exists()


def test_revoking_asks_first_then_revokes(alice_portal, acme_key):
    confirm = alice_portal.get(f"/portal/keys/{acme_key.key_id}/revoke/")
    assert confirm.status_code == 200
    assert f"撤销密钥 {acme_key.key_id}？" in confirm.content.decode()
    acme_key.refresh_from_db()
    assert acme_key.revoked_at is None
    done = alice_portal.post(f"/portal/keys/{acme_key.key_id}/revoke/")
    assert done.status_code == 302 and done["Location"] == "/portal/keys/"
    acme_key.refresh_from_db()
    assert acme_key.revoked_at is not None


def test_a_developer_reads_keys_but_cannot_create_or_revoke(bob_portal, acme_key):
    html = bob_portal.get("/portal/keys/").content.decode()
    assert acme_key.key_id in html and 'id="key-form"' not in html and "/revoke/" not in html
    assert bob_portal.post("/portal/keys/", {"project": "chatbot", "name": "x"}).status_code == 403
    assert bob_portal.get(f"/portal/keys/{acme_key.key_id}/revoke/").status_code == 403
    assert bob_portal.post(f"/portal/keys/{acme_key.key_id}/revoke/").status_code == 403
    acme_key.refresh_from_db()
    assert acme_key.revoked_at is None and ApiKey.objects.count() == 1


def test_another_customers_admin_gets_404_for_acmes_key(charlie_portal, acme_key, other_project):
    assert charlie_portal.get(f"/portal/keys/{acme_key.key_id}/revoke/").status_code == 404
    assert charlie_portal.post(f"/portal/keys/{acme_key.key_id}/revoke/").status_code == 404
    assert acme_key.key_id not in charlie_portal.get("/portal/keys/").content.decode()
    # ACME's project code is not a choice for charlie either.
    assert charlie_portal.post("/portal/keys/", {"project": "chatbot", "name": "x"}).status_code == 200
    assert ApiKey.objects.count() == 1
    acme_key.refresh_from_db()
    assert acme_key.revoked_at is None


def test_posts_need_the_csrf_token(alice, acme_key):
    client = signed_in(alice, enforce_csrf_checks=True)
    assert client.post("/portal/keys/", {"project": "chatbot", "name": "x"}).status_code == 403
    assert client.post(f"/portal/keys/{acme_key.key_id}/revoke/").status_code == 403
    acme_key.refresh_from_db()
    assert acme_key.revoked_at is None and ApiKey.objects.count() == 1
