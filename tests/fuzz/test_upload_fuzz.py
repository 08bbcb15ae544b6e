"""The upload endpoints with files (issue 21): generated hostile exports — CSV and JSON
built from numbers with huge digits and exponents, NUL and control characters, overlong
names, deep nesting, broken quotes, random bytes, GBK text — posted to the reconciliation
upload on the API and the page (the schemathesis run, test_api_fuzz.py, sends generated
files to every multipart operation too). None may get a 5xx; every answer is a 201 or a
400 naming ``file`` in the error shape.

Examples: ``FUZZ_EXAMPLES`` (20 in `make test`; `make fuzz` runs 500)."""

from __future__ import annotations

import json
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
pytestmark = pytest.mark.django_db

NUMBERS = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.sampled_from(["1e30", "1e1000000", "-1e-1000000", "9" * 5000, "NaN", "Infinity", "1.5", "0x10", "١٢٣", "³"]),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)
TEXTS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["gpt-4o", "m" * 101, "gpt\x004o", "\x01\x02", "=HYPERLINK(1)", "深度求索", '"', '"broken']),
)
FIELD = st.one_of(NUMBERS, TEXTS)
HEADERS = [
    "start_time,model,input_tokens,output_tokens,num_model_requests",
    "start_time,amount_value,amount_currency,line_item",
    "starting_at,model,amount,currency",
]


@st.composite
def csv_files(draw) -> bytes:
    header = draw(st.sampled_from(HEADERS))
    rows = draw(st.lists(st.lists(FIELD, min_size=1, max_size=6), max_size=8))
    text = header + "\n" + "\n".join(",".join(row) for row in rows) + "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
    return text.encode(encoding, errors="replace")


@st.composite
def json_files(draw) -> bytes:
    value = draw(FIELD)
    kind = draw(st.sampled_from(["costs", "usage", "deep", "raw"]))
    if kind == "deep":
        return b"[" * draw(st.integers(min_value=1, max_value=200_000))
    if kind == "raw":
        return draw(st.binary(max_size=200))
    number = value if draw(st.booleans()) else json.dumps(value)
    result = (
        f'{{"amount": {{"value": {number}, "currency": "usd"}}, "line_item": {json.dumps(draw(TEXTS))}}}'
        if kind == "costs"
        else f'{{"model": {json.dumps(draw(TEXTS))}, "input_tokens": {number}, "output_tokens": 1}}'
    )
    return f'{{"data": [{{"start_time": {draw(NUMBERS)}, "results": [{result}]}}]}}'.encode(errors="replace")


FILES = st.one_of(csv_files(), json_files(), st.binary(max_size=300))


@pytest.fixture
def clients(finance_user):
    api = APIClient()
    api.force_authenticate(finance_user)
    page = Client(raise_request_exception=False)
    page.force_login(finance_user)
    return api, page


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(content=FILES, provider=st.sampled_from(["openai", "anthropic"]))
def test_the_reconciliation_upload_never_fails_on_a_generated_file(clients, content, provider):
    api, page = clients
    answer = api.post(
        "/api/v1/provider-costs/imports/",
        {"provider": provider, "file": SimpleUploadedFile("export.csv", content)},
        format="multipart",
    )
    assert answer.status_code in (201, 400), (answer.status_code, content[:200])
    if answer.status_code == 400:
        assert set(answer.json()) == {"detail", "errors"} and list(answer.json()["errors"]) == ["file"]
    shown = page.post("/staff/reconciliation/", {"provider": provider, "file": SimpleUploadedFile("x.json", content)})
    assert shown.status_code in (302, 400), (shown.status_code, content[:200])
