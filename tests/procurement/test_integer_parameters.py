"""Every integer a client sends, in a path, a query, a form or a header, read by the one parser
(``common.integers``): ``³`` (a digit to ``str.isdigit()``, not to ``int()``), ``٣`` (a digit
to ``int()``), a sign where none is allowed and a number no column holds answer 400 or 404
naming the parameter, never 500 and never a silent other reading.

The path routes come from the resolver (every ``<int:…>`` and the bills' ``<str:number>``,
which takes a draft's id), so a route added later is swept too; the query, form and header
parameters are listed (``QUERY_PARAMETERS``), and the listing is checked against the code:
every ``int_param(…, name=…)`` in the code is one of them.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.urls.converters import IntConverter

from presales.models import Proposal
from tests.conftest import client_for
from tests.presales.conftest import ESTIMATES_URL, _media_root, goods_request, price_book, usd_rate  # noqa: F401

pytestmark = pytest.mark.django_db

BAD = ["³", "٣", "-1", "+1", "1_0", "99999999999999999999", "9" * 60]
ROOT = Path(__file__).resolve().parents[2]
APPS = [
    "common",
    "customers",
    "billing",
    "invoices",
    "banking",
    "gateways",
    "presales",
    "portal",
    "procurement",
    "workspace",
]


def _routes(patterns=None, prefix="", converters=None):
    for p in get_resolver().url_patterns if patterns is None else patterns:
        found = {**(converters or {}), **getattr(p.pattern, "converters", {})}
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + str(p.pattern), found)
        else:
            yield prefix + str(p.pattern), found


def numeric_routes() -> list[tuple[str, str]]:
    """(route, the kwarg that is a number) for every route of ours taking one."""
    found = []
    for route, converters in _routes():
        if route.startswith("admin/"):
            continue  # Django's own admin: its object ids answer its "does not exist" redirect
        for name, converter in converters.items():
            if isinstance(converter, IntConverter):
                found.append((route, name))
        if re.search(r"(^|/)bills/<str:number>/", route):
            found.append((route, "number"))  # a bill's number or a draft's id
    return found


def _url(route: str, name: str, value: str) -> str:
    def fill(match):
        kwarg = match.group(2)
        if kwarg == name:
            return quote(value)
        return {"code": "ACME", "notice": "CS-2026-0001"}.get(kwarg, "x")

    return "/" + re.sub(r"<(\w+:)?(\w+)>", fill, route)


@pytest.fixture
def finance_page(finance_user):
    client = Client()
    client.force_login(finance_user)
    return client


@pytest.fixture
def alice_page(alice):
    client = Client()
    client.force_login(alice)
    return client


def test_the_sweep_finds_the_numeric_routes():
    routes = {route for route, _name in numeric_routes()}
    assert "portal/budgets/<int:pk>/" in routes
    assert "api/v1/bank-transactions/<int:pk>/match/" in routes
    assert "api/v1/bills/<str:number>/" in routes
    assert len(routes) >= 30


@pytest.mark.parametrize("value", BAD)
def test_every_numeric_path_segment_answers_404_for_a_bad_number(value, finance_user, finance_page, alice_page):
    api = client_for(finance_user)
    for route, name in numeric_routes():
        url = _url(route, name, value)
        client = api if route.startswith("api/") else alice_page if route.startswith("portal/") else finance_page
        answer = client.get(url)
        if answer.status_code == 405:  # an action: sent, with no body, by the first method it takes
            method = next(m for m in ("post", "patch", "put", "delete") if m.upper() in answer["Allow"])
            answer = getattr(client, method)(url, {})
            if answer.status_code == 400 and route.startswith("api/"):
                # The action checked its (empty) body before looking the object up: the
                # refusal names the body's fields, never the number.
                assert name not in answer.json()["errors"], (url, answer.json())
                continue
        assert answer.status_code == 404, (url, answer.status_code, answer.content[:300])
        if route.startswith("api/"):
            assert answer.json()["detail"], url
        else:
            assert answer.content.strip(), url


@pytest.fixture
def proposal(presales_user, price_book, usd_rate):  # noqa: F811
    client = client_for(presales_user)
    estimate = client.post(ESTIMATES_URL, goods_request(), format="json").json()
    chosen = [{"workload": "商品描述", "provider": "openai", "model": "gpt-4o"}]
    client.post(
        f"{ESTIMATES_URL}{estimate['id']}/proposals/", {"valid_until": "2099-12-31", "chosen": chosen}, format="json"
    )
    return Proposal.objects.get()


# (who, path, parameter): a query parameter that is a whole number.
QUERY_PARAMETERS = [
    ("finance_page", "/staff/presales/", "rows"),
    ("finance_page", "/staff/presales/proposals/{proposal}/pdf/", "version"),
    ("finance_api", "/api/v1/presales/proposals/{proposal}/", "version"),
    ("finance_api", "/api/v1/presales/proposals/{proposal}/pdf/", "version"),
    ("finance_page", "/staff/reconciliation/", "import"),
    ("alice_page", "/portal/alerts/", "page"),
]


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize(("who", "path", "name"), QUERY_PARAMETERS)
def test_every_numeric_query_parameter_answers_400_naming_it(
    who, path, name, value, proposal, finance_user, finance_page, alice_page
):
    client = {"finance_api": client_for(finance_user), "finance_page": finance_page, "alice_page": alice_page}[who]
    url = path.format(proposal=proposal.number)

    answer = client.get(url, {name: value})

    assert answer.status_code == 400, answer.content[:300]
    if url.startswith("/api/"):
        errors = answer.json()["errors"]
        assert list(errors) == [name]
        assert re.search("whole number|整数|Out of range|超出范围|characters|字符", errors[name][0]), errors
    else:
        assert f"{name}: " in answer.content.decode()


@pytest.mark.parametrize("value", ["1", "2"])
def test_a_good_number_still_reads(value, proposal, finance_page):
    """The same parameters, with a number in range: read as before (a version that does not
    exist is 404, the first is the PDF)."""
    answer = finance_page.get(f"/staff/presales/proposals/{proposal.number}/pdf/", {"version": value})
    assert answer.status_code == (200 if value == "1" else 404)
    assert finance_page.get("/staff/presales/", {"rows": "3"}).content.decode().count('name="workloads-2-name"') == 1


def test_the_listing_names_every_int_param_of_the_code():
    """A parameter read with ``int_param`` somewhere in the code is swept above."""
    call = re.compile(r"int_param\((?:[^()]|\([^()]*\))*?name=\"(\w+)\"")
    named = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            named |= set(call.findall(path.read_text(encoding="utf-8")))
    assert named == {name for _who, _path, name in QUERY_PARAMETERS}


@pytest.mark.parametrize("value", BAD)
def test_a_budget_threshold_that_is_not_a_whole_number_is_shown_beside_the_field(value, alice_page, acme):
    from billing.models import Budget

    form = {"scope": "customer", "target": "", "monthly_amount": "1000.00", "currency": "CNY"}
    page = alice_page.post(
        "/portal/budgets/", {**form, "thresholds": f"50, {value}", "channels": "ops@acme.example.cn"}
    )

    # The portal's convention for a form: shown again (200) with the error beside the field.
    assert page.status_code == 200
    assert "请填写整数百分比" in page.content.decode()
    assert not Budget.objects.exists()


@pytest.mark.parametrize("value", BAD)
def test_a_callback_timestamp_that_is_not_a_whole_number_is_a_bad_signature(value, settings):
    settings.NUONUO_APP_KEY, settings.NUONUO_APP_SECRET = "app-key", "app-secret"

    answer = Client().post(
        "/api/v1/invoices/callbacks/nuonuo/",
        b"{}",
        content_type="application/json",
        headers={"X-Nuonuo-AppKey": "app-key", "X-Nuonuo-Timestamp": value, "X-Nuonuo-Sign": "x"},
    )

    assert answer.status_code == 403
    assert answer.json() == {"detail": "Bad or missing signature.", "errors": {}}


@pytest.mark.parametrize("value", BAD)
def test_a_content_length_that_is_not_a_whole_number_is_400(value, finance_user):
    answer = client_for(finance_user).post(
        "/api/v1/bills/close/", {}, format="json", CONTENT_LENGTH=value, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert answer.status_code == 400
    assert answer.json() == {"detail": "The Content-Length header is not a number.", "errors": {}}
