"""The domain's refusals (common.errors) are no web framework's: the API's exception handler
answers them 409/403 in the contract's shape, a page answers a role's refusal with Django's
403, an admin form shows a conflict above the form and its field errors beside the fields."""

from __future__ import annotations

import pytest
from django import forms
from django.test import Client

from common.admin_forms import errors_onto_form
from common.api import exception_handler
from common.errors import Conflict, NotAllowed, refusal_text

pytestmark = pytest.mark.django_db


def test_a_conflict_is_409_with_its_message_and_field_errors():
    plain = exception_handler(Conflict("Bill B-1 is paid."), {})
    named = exception_handler(Conflict("Bill B-1 is paid.", errors={"bill": ["Paid on 2026-11-05."]}), {})

    assert (plain.status_code, plain.data) == (409, {"detail": "Bill B-1 is paid.", "errors": {}})
    assert (named.status_code, named.data) == (
        409,
        {"detail": "Bill B-1 is paid.", "errors": {"bill": ["Paid on 2026-11-05."]}},
    )


def test_a_role_refusal_is_403_with_its_reason_or_the_generic_sentence(bob_client, acme):
    scoped = bob_client.get("/api/v1/bills/", HTTP_ACCEPT_LANGUAGE="en")
    bare = bob_client.get("/api/v1/customers/ACME/statement/", HTTP_ACCEPT_LANGUAGE="en")

    assert (scoped.status_code, scoped.json()) == (
        403,
        {"detail": "Bills need the admin or finance role.", "errors": {}},
    )
    assert (bare.status_code, bare.json()) == (
        403,
        {"detail": "You do not have permission to perform this action.", "errors": {}},
    )


def test_a_page_answers_a_role_refusal_with_djangos_403_without_translating_it(bob):
    client = Client()
    client.force_login(bob)

    answer = client.get("/documents/bills/B-2026-10-0001/pdf/")

    assert answer.status_code == 403
    assert 'id="forbidden-message"' in answer.content.decode()


def test_not_allowed_is_djangos_permission_denied():
    from django.core.exceptions import PermissionDenied

    assert issubclass(NotAllowed, PermissionDenied)
    assert not issubclass(Conflict, PermissionDenied)


class _Form(forms.Form):
    bill = forms.CharField()


def test_an_admin_form_shows_a_conflict_above_and_its_field_errors_beside_the_field():
    form = _Form({"bill": "B-1"})
    assert form.is_valid()

    errors_onto_form(form, Conflict("Bill B-1 is paid.", errors={"bill": ["Paid on 2026-11-05."]}))

    assert form.non_field_errors() == ["Bill B-1 is paid."]
    assert form.errors["bill"] == ["Paid on 2026-11-05."]
    assert refusal_text(Conflict("Bill B-1 is paid.", errors={"bill": ["Paid."]})) == "Bill B-1 is paid. Paid."
