"""Schemathesis over the app's own OpenAPI schema (`/api/schema/`): every operation, with a
finance token, a portal admin token (ACME, a customer with data) and the gateway token,
and every check schemathesis offers. No input may get a 5xx or an answer outside the
schema.

The data is the demo (`seed_demo` at a hundredth of its volume): customers with contracts,
projects, keys, prices, rates, three months of usage, closed and paid bills, invoices,
budgets and alerts, loaded once for the module inside a transaction that is rolled back at
the end. Each test (operation × token) runs in a savepoint of its own, so what one
example writes is seen by the next example of the same test and by no other test.

About half of the examples (chosen by a hash of the generated path) address the demo's own objects in their path (``ACME``, a closed
bill, an invoice, …) so that they reach the code behind the lookup; the others keep
the generated path values (a 404 must answer them in the error shape).

Examples per operation: ``FUZZ_EXAMPLES`` (20 in `make test`; `make fuzz` runs 500).
"""

from __future__ import annotations

import os
import zlib
from io import StringIO

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks
from schemathesis.specs.openapi import checks as openapi_checks

from procurement.wsgi import application

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

# Every response check schemathesis 4 has, but two (use_after_free and
# ensure_resource_availability only act in stateful runs; listed so the intent is plain).
# Left out: positive_data_acceptance (the server rightly refuses schema-valid values that
# break rules a JSON Schema cannot say: a payment received tomorrow, a weak password, a
# period that does not exist) and negative_data_rejection (the contract answers 200 to a
# batch whose records are not objects: they are rejected one by one, not the envelope;
# query values are read leniently, e.g. ``?regenerate=null`` as false).
CHECKS = [
    st_checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.missing_required_header,
    openapi_checks.unsupported_method,
    openapi_checks.allow_header_conformance,
    openapi_checks.use_after_free,
    openapi_checks.ensure_resource_availability,
    openapi_checks.ignored_auth,
]


CALLS = {"cases": 0}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo data and a token per identity, for the module; rolled back at its end."""
    from django.contrib.auth import get_user_model

    from billing.models import Bill
    from customers import services
    from customers.models import ApiKey, Customer
    from invoices.models import Invoice

    # As Django's test client does: a request must not close the connection that holds the
    # test's transaction (the WSGI app is called in-process).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("fuzz-media"))
    media.enable()
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", "--force", "--scale=0.01", stdout=StringIO())
        users = get_user_model().objects
        acme = Customer.objects.get(code="ACME")
        bill = Bill.objects.filter(customer=acme).exclude(number=None).order_by("period").first()
        invoice = Invoice.objects.filter(bill__customer=acme).order_by("number").first()
        key = ApiKey.objects.filter(project__customer=acme, revoked_at=None).order_by("pk").first()
        title = acme.invoice_titles.order_by("pk").first() if hasattr(acme, "invoice_titles") else None
        tokens = {
            "finance": services.api_token_create(user=users.get(username="finance"), name="fuzz")[1],
            "portal": services.api_token_create(user=users.get(username="acme-admin"), name="fuzz")[1],
            "gateway": services.gateway_identity_create(name="fuzz")[1],
        }
        objects = {
            "code": acme.code,
            "number": {"bills": bill.number, "invoices": invoice.number},
            "project": key.project.code,
            "key_id": key.key_id,
            "id": title.pk if title is not None else 1,
        }
        yield tokens, objects
        transaction.set_rollback(True)
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
    media.disable()
    # The figures the README's "Reliability" section quotes.
    print(
        f"\nfuzz: {CALLS['cases']} cases (test calls; the checks send more requests), {EXAMPLES} examples per operation and identity"
    )


def _address_demo_objects(case, objects) -> None:
    """Put the demo's own identifiers in the path (the generated ones almost never exist)."""
    for name in list(case.path_parameters or {}):
        value = objects.get(name)
        if isinstance(value, dict):
            value = value["invoices" if case.path.startswith("/api/v1/invoices/") else "bills"]
        if value is not None:
            case.path_parameters[name] = value


@pytest.mark.parametrize("identity", ["finance", "portal", "gateway"])
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_fuzz(case, identity, demo, db):
    tokens, objects = demo
    if zlib.crc32(repr(sorted((case.path_parameters or {}).items())).encode()) % 2:
        _address_demo_objects(case, objects)
    CALLS["cases"] += 1
    case.call_and_validate(headers={"Authorization": f"Token {tokens[identity]}"}, checks=CHECKS)
