"""What one bad file can make the reconciliation upload do (issue 21, findings 3, 4, 5, 15):
each kind of bad upload is a 400 naming the line and the field, on the page and the API,
never a 500 nor minutes of work; a file of many bad rows stores the first 100 with the count
of the rest, or is refused whole past 1,000; 20 MB at most; a GBK/GB18030 CSV (what Excel in
China saves) is read."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.uploads import MAX_UPLOAD_BYTES
from workspace.models import ProviderCost, ProviderCostImport
from workspace.parsers import MAX_BAD_ROWS, MAX_LISTED_ERRORS

pytestmark = pytest.mark.django_db

API = "/api/v1/provider-costs/imports/"
PAGE = "/staff/reconciliation/"
DAY = "1794268800"  # 2026-11-10 UTC
USAGE_HEADER = "start_time,model,input_tokens,output_tokens,num_model_requests\n"
COSTS_HEADER = "start_time,amount_value,amount_currency,line_item\n"


def usage_csv(*rows: str) -> bytes:
    return (USAGE_HEADER + "".join(row + "\n" for row in rows)).encode()


def costs_csv(*rows: str) -> bytes:
    return (COSTS_HEADER + "".join(row + "\n" for row in rows)).encode()


# (file content, the line named, the field named); every one a 500 or minutes of work before.
BAD_UPLOADS = {
    "model name of 101 characters": (usage_csv(f"{DAY},{'m' * 101},10,20,1"), "2", "model"),
    "NUL in the model name": (usage_csv(f"{DAY},gpt\x004o,10,20,1"), "2", "model"),
    "1e30 as a token count": (usage_csv(f"{DAY},gpt-4o,1e30,20,1"), "2", "input_tokens"),
    "a 5,000-digit token count": (usage_csv(f"{DAY},gpt-4o,{'9' * 5000},20,1"), "2", "input_tokens"),
    "a fractional token count": (usage_csv(f"{DAY},gpt-4o,10,12.5,1"), "2", "output_tokens"),
    "1e1000000 as an amount": (costs_csv(f'{DAY},1e1000000,usd,"gpt-4o, input"'), "2", "amount_value"),
    "a 5,000-digit amount": (costs_csv(f'{DAY},{"9" * 5000},usd,"gpt-4o, input"'), "2", "amount_value"),
    "a time in the year 9999": (usage_csv("253402214400,gpt-4o,10,20,1"), "2", "start_time"),
    "a 5,000-digit time": (usage_csv(f"{'1' * 5000},gpt-4o,10,20,1"), "2", "start_time"),
    "a currency of control characters": (costs_csv(f'{DAY},1.5,\x01\x02\x03,"gpt-4o, input"'), "2", "amount_currency"),
    "100,000 nested [ in JSON": (b"[" * 100_000, None, None),
    "a NaN amount in JSON": (
        b'{"data": [{"start_time": 1794268800, "results": [{"amount": {"value": NaN, "currency": "usd"},'
        b' "line_item": "gpt-4o, input"}]}]}',
        "data[0].results[0]",
        "amount.value",
    ),
    "a JSON number of 5,000 digits": (
        b'{"data": [{"start_time": 1794268800, "results": [{"model": "gpt-4o", "input_tokens": '
        + b"9" * 5000
        + b', "output_tokens": 1, "num_model_requests": 1}]}]}',
        "data[0].results[0]",
        "input_tokens",
    ),
}


def post_api(client, content: bytes, name: str = "export.csv"):
    return client.post(API, {"provider": "openai", "file": SimpleUploadedFile(name, content)}, format="multipart")


def post_page(client, content: bytes, name: str = "export.csv"):
    return client.post(PAGE, {"provider": "openai", "file": SimpleUploadedFile(name, content)})


@pytest.fixture
def finance_browser(client, finance_user):
    client.force_login(finance_user)
    return client


@pytest.mark.parametrize("kind", list(BAD_UPLOADS))
def test_each_kind_of_bad_upload_is_a_400_naming_line_and_field(finance_client, finance_browser, kind):
    content, line, field = BAD_UPLOADS[kind]
    started = time.monotonic()

    api = post_api(finance_client, content)
    page = post_page(finance_browser, content)

    assert time.monotonic() - started < 10
    assert api.status_code == 400, api.content[:300]
    assert set(api.json()) == {"detail", "errors"} and list(api.json()["errors"]) == ["file"]
    (message,) = api.json()["errors"]["file"]
    assert page.status_code == 400
    shown = page.content.decode()
    assert 'id="errors-file"' in shown
    if line is not None:
        assert f"line {line}" in message or f"第 {line} 行" in message or line in message, message
        assert f"{field}:" in message, message
        assert f"{field}:" in shown
    assert ProviderCost.objects.count() == 0 and ProviderCostImport.objects.count() == 0


def test_good_rows_beside_a_bad_one_are_imported_and_the_bad_one_named(finance_client):
    content = usage_csv(f"{DAY},gpt-4o,10,20,1", f"{DAY},gpt-4o-mini,1e30,20,1")

    response = post_api(finance_client, content)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["row_count"] == 1 and body["more_errors"] == 0
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(3, "input_tokens")]


def test_a_file_of_many_bad_rows_keeps_the_first_100_and_counts_the_rest(finance_client, finance_browser):
    bad = [f"{DAY},m{n},x,20,1" for n in range(900)]
    content = usage_csv(f"{DAY},gpt-4o,10,20,1", *bad)

    response = post_api(finance_client, content)

    assert response.status_code == 201
    body = response.json()
    assert len(body["errors"]) == MAX_LISTED_ERRORS and body["more_errors"] == 900 - MAX_LISTED_ERRORS
    assert body["errors"][0]["line"] == 3
    record = ProviderCostImport.objects.get()
    with CaptureQueriesContext(connection) as queries:
        page = finance_browser.get(PAGE, {"import": record.pk})
    assert page.status_code == 200
    assert page.content.decode().count("<code>input_tokens</code>") == MAX_LISTED_ERRORS
    assert 'id="import-more-errors"' in page.content.decode()
    assert len(queries) < 60


def test_a_file_past_the_error_threshold_is_refused_whole_and_quickly(finance_client, finance_browser):
    """The 9.6 MB file of 1.6 M unreadable rows stored 1.6 M errors and made the page take 17 s."""
    content = usage_csv(*(f"{DAY},m,x,y,z" for _n in range(200_000)))
    started = time.monotonic()

    response = post_api(finance_client, content)

    assert time.monotonic() - started < 15
    assert response.status_code == 400
    (message,) = response.json()["errors"]["file"]
    assert str(MAX_BAD_ROWS) in message and "input_tokens" in message, message
    assert ProviderCostImport.objects.count() == 0
    started = time.monotonic()
    assert finance_browser.get(PAGE).status_code == 200
    assert time.monotonic() - started < 5


def test_a_file_over_20_mb_is_refused_before_it_is_read(finance_client, finance_browser, monkeypatch):
    content = b"x" * (MAX_UPLOAD_BYTES + 1)

    api = post_api(finance_client, content)
    page = post_page(finance_browser, content)

    # The body limit (procurement.request_guard) answers before the view reads the file:
    # 413 in the JSON error shape under /api/, a plain 413 on the page.
    assert api.status_code == 413 and "20 MB" in api.json()["detail"]
    assert page.status_code == 413 and "20 MB" in page.content.decode()
    assert ProviderCostImport.objects.count() == 0


GBK_CSV = "start_time,model,input_tokens,output_tokens,num_model_requests\n1794268800,深度求索-v3,100,20,1\n"


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_a_csv_saved_by_excel_in_china_is_read(finance_client, encoding):
    response = post_api(finance_client, GBK_CSV.encode(encoding))

    assert response.status_code == 201, response.content
    assert ProviderCost.objects.get().model == "深度求索-v3"


def test_a_file_in_no_known_encoding_says_how_to_save_it_as_utf8(finance_client):
    content = GBK_CSV.encode("utf-16")

    response = post_api(finance_client, content)

    assert response.status_code == 400
    assert "UTF-8" in response.json()["errors"]["file"][0]
