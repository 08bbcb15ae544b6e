"""One error shape, {"detail", "errors"}, in the request's language (Chinese by default)."""

from __future__ import annotations

import pytest

from customers.models import Contract, Customer

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"
BAD_USCC = "9144030071526726X0"  # the check character should be G


def assert_shape(response, status: int) -> dict:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], dict)
    return body


def test_it_answers_400_with_every_field_error(finance_client):
    body = assert_shape(finance_client.post(URL, {"tax_id": BAD_USCC}, format="json", HTTP_ACCEPT_LANGUAGE="en"), 400)

    assert sorted(body["errors"]) == ["code", "name"]
    assert body["errors"]["code"] == ["This field is required."]
    assert body["detail"] == "Invalid input in: code, name."


def test_it_answers_400_for_a_service_error_naming_the_field(finance_client):
    body = assert_shape(
        finance_client.post(
            URL, {"code": "X", "name": "x", "tax_id": BAD_USCC}, format="json", HTTP_ACCEPT_LANGUAGE="en"
        ),
        400,
    )

    assert body["errors"] == {
        "tax_id": ["The check character is wrong (expected G); please check the code for a typo."]
    }
    assert body["detail"] == "Invalid input in: tax_id."


def test_it_answers_401_403_and_404_in_the_same_shape(client, bob_client, charlie_client, acme):
    anonymous = assert_shape(client.get(URL, HTTP_ACCEPT_LANGUAGE="en"), 401)
    forbidden = assert_shape(bob_client.post(URL, {}, format="json", HTTP_ACCEPT_LANGUAGE="en"), 403)
    missing = assert_shape(charlie_client.get(f"{URL}ACME/", HTTP_ACCEPT_LANGUAGE="en"), 404)

    assert anonymous == {"detail": "Authentication credentials were not provided.", "errors": {}}
    assert forbidden == {"detail": "You do not have permission to perform this action.", "errors": {}}
    assert missing == {"detail": "Not found.", "errors": {}}


def test_it_answers_401_for_a_bad_token_in_the_same_shape(db):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token pc_nope_nope")

    assert assert_shape(client.get(URL, HTTP_ACCEPT_LANGUAGE="en"), 401)["detail"] == "Invalid or revoked token."
    assert assert_shape(client.get(URL), 401)["detail"] == "令牌无效或已撤销。"


def test_it_answers_in_chinese_without_an_accept_language_header(finance_client, acme):
    bad_uscc = assert_shape(
        finance_client.post(URL, {"code": "X", "name": "x", "tax_id": BAD_USCC}, format="json"), 400
    )
    duplicate = assert_shape(finance_client.post(URL, {"code": "ACME", "name": "x"}, format="json"), 400)
    required = assert_shape(finance_client.post(URL, {}, format="json"), 400)

    assert bad_uscc == {
        "detail": "以下字段输入有误：tax_id。",
        "errors": {"tax_id": ["校验码错误（应为 G）；请检查代码是否输入有误。"]},
    }
    assert duplicate["errors"] == {"code": ["编码为 ACME 的客户已存在。"]}
    assert required["errors"]["code"] == ["该字段是必填项。"]


def test_it_answers_401_403_404_in_chinese_by_default(client, bob_client, charlie_client, acme):
    assert assert_shape(client.get(URL), 401)["detail"] == "身份认证信息未提供。"
    assert assert_shape(bob_client.post(URL, {}, format="json"), 403)["detail"] == "您没有执行该操作的权限。"
    assert assert_shape(charlie_client.get(f"{URL}ACME/"), 404)["detail"] == "未找到。"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9", "统一社会信用代码应为 18 位；此代码为 3 位。"),
        ("en-US,en;q=0.9", "A unified social credit code has 18 characters; this one has 3."),
        ("fr-FR", "统一社会信用代码应为 18 位；此代码为 3 位。"),  # unsupported: the default
    ],
)
def test_it_follows_accept_language(finance_client, header, expected):
    body = assert_shape(
        finance_client.post(
            URL, {"code": "X", "name": "x", "tax_id": "123"}, format="json", HTTP_ACCEPT_LANGUAGE=header
        ),
        400,
    )

    assert body["errors"]["tax_id"] == [expected]
    assert not Customer.objects.exists()


def test_it_explains_a_contract_overlap_in_either_language(finance_client, acme):
    payload = {"number": "HT-2", "starts_on": "2026-03-01", "ends_on": "2026-03-31"}

    chinese = assert_shape(finance_client.post(f"{URL}ACME/contracts/", payload, format="json"), 400)
    english = assert_shape(
        finance_client.post(f"{URL}ACME/contracts/", payload, format="json", HTTP_ACCEPT_LANGUAGE="en"), 400
    )

    assert chinese["errors"] == {"starts_on": ["日期与生效中的合同 HT-ACME-1（2026-01-01 – …）重叠。"]}
    assert english["errors"] == {"starts_on": ["These dates overlap the active contract HT-ACME-1 (2026-01-01 – …)."]}
    assert Contract.objects.filter(customer=acme).count() == 1


def test_it_explains_bad_terms_in_chinese(finance_client, acme):
    payload = {"number": "HT-2", "starts_on": "2025-01-01", "ends_on": "2025-12-31", "discount_percent": "120"}

    body = assert_shape(finance_client.post(f"{URL}ACME/contracts/", payload, format="json"), 400)

    assert list(body["errors"]) == ["discount_percent"]
    assert "100" in body["errors"]["discount_percent"][0]
    assert "Ensure" not in body["errors"]["discount_percent"][0]  # DRF's own catalogue, in Chinese


# --- Found by the fuzz run (tests/fuzz) ------------------------------------------------


def test_an_api_url_that_matches_no_route_is_a_json_404(finance_client, acme):
    """The invoice title id must be a number: no route matches, and the answer is still JSON."""
    response = finance_client.patch("/api/v1/customers/ACME/invoice-titles/abc/", {}, format="json")

    assert response["Content-Type"] == "application/json"
    assert assert_shape(response, 404)["errors"] == {}


def test_a_page_url_that_matches_no_route_stays_html(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_errors_of_list_items_stay_under_their_field_led_by_their_place(finance_client, acme):
    body = {"scope": "customer", "monthly_amount": "100.00", "currency": "CNY", "thresholds": [50, 5000, 0]}

    response = finance_client.post("/api/v1/customers/ACME/budgets/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")

    errors = assert_shape(response, 400)["errors"]
    assert list(errors) == ["thresholds"]
    assert [message[:4] for message in errors["thresholds"]] == ["[1] ", "[2] "]
    assert response.json()["detail"] == "Invalid input in: thresholds."


def test_the_schema_documents_what_the_fuzz_run_found_undocumented(finance_client):
    import yaml

    schema = yaml.safe_load(finance_client.get("/api/schema/").content)
    paths = schema["paths"]

    assert set(paths["/api/v1/usage-summary/"]["get"]["responses"]["200"]["content"]) == {
        "application/json",
        "text/csv",
    }
    assert "404" in paths["/api/v1/alerts/"]["get"]["responses"]  # ?customer= of no such customer
    not_found = paths["/api/v1/invoice-requests/"]["post"]["responses"]["404"]  # a body naming no such bill
    assert not_found["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_a_bill_number_of_a_non_ascii_digit_is_a_404(finance_client):
    """ "³" passes str.isdigit() but not int(): it was a 500 on every bill URL."""
    response = finance_client.post("/api/v1/bills/%C2%B3/payments/", {"amount": "1.00"}, format="json")

    assert assert_shape(response, 404)["errors"] == {}


# --- Every period parameter: one parser, bounded (issue 21, finding 6) ---------------------

BAD_PERIODS = ["9999-12", "1999-12", "2101-01", "³³³³-01", "2026-13", "0000-00"]


def _period_operations(schema: dict) -> list[tuple[str, str, str]]:
    """(method, path, "query" | "body") of every API operation that takes a ``period``."""
    found = []
    schemas = schema.get("components", {}).get("schemas", {})
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            if any(p.get("name") == "period" and p.get("in") == "query" for p in operation.get("parameters", [])):
                found.append((method, path, "query"))
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                body = media.get("schema", {})
                if "$ref" in body:
                    body = schemas[body["$ref"].rsplit("/", 1)[1]]
                if "period" in body.get("properties", {}):
                    found.append((method, path, "body"))
                    break
    return found


@pytest.mark.parametrize("bad", BAD_PERIODS)
def test_every_period_parameter_of_the_api_refuses_a_bad_period_naming_it(finance_client, acme, bad):
    """The "³" sweep for periods: 9999-12 was a 500 on the usage summary and the reconciliation."""
    import yaml

    schema = yaml.safe_load(finance_client.get("/api/schema/").content)
    operations = _period_operations(schema)
    paths = {path for _method, path, _where in operations}
    assert {"/api/v1/usage-summary/", "/api/v1/reconciliation/", "/api/v1/alerts/", "/api/v1/bills/"} <= paths
    for method, path, where in operations:
        url = path.replace("{code}", "ACME").replace("{number}", "1").replace("{key_id}", "ak_x")
        if where == "query":
            response = getattr(finance_client, method)(url, {"period": bad, "customer": "ACME"})
        else:
            response = getattr(finance_client, method)(url, {"period": bad, "customer": "ACME"}, format="json")
        body = assert_shape(response, 400)
        assert "period" in body["errors"], (method, path, body)


def test_the_period_bounds_are_2000_01_and_2100_12(finance_client, acme):
    for good in ("2000-01", "2100-12"):
        assert finance_client.get("/api/v1/usage-summary/", {"customer": "ACME", "period": good}).status_code == 200
    body = assert_shape(
        finance_client.get(
            "/api/v1/usage-summary/", {"customer": "ACME", "period": "9999-12"}, HTTP_ACCEPT_LANGUAGE="en"
        ),
        400,
    )
    assert body["errors"] == {"period": ["The period must be between 2000-01 and 2100-12."]}


@pytest.mark.parametrize("bad", BAD_PERIODS)
def test_every_page_taking_a_period_refuses_a_bad_one_with_a_400(client, alice, finance_user, bad):
    client.force_login(alice)
    for url in ("/portal/usage/", "/portal/usage/export.csv", "/portal/usage/export.xlsx", "/portal/alerts/"):
        response = client.get(url, {"period": bad})
        assert response.status_code == 400, (url, response.status_code)
        assert b"period" in response.content or "月份".encode() in response.content, url
    client.force_login(finance_user)
    for query in ({"period": bad}, {"period": bad, "format": "csv", "table": "models"}):
        response = client.get("/staff/reconciliation/", query)
        assert response.status_code == 400, (query, response.status_code)
        assert b'id="errors-period"' in response.content


def test_an_unexpected_error_under_api_still_answers_the_json_shape_in_production(settings, finance_user, monkeypatch):
    """Issue 21: with DEBUG off (production), an API's 500 was Django's HTML page."""
    from django.test import Client

    def boom(**_kwargs):
        raise RuntimeError("something nobody expected")

    settings.DEBUG = False
    monkeypatch.setattr("workspace.api.reconciliation", boom)
    monkeypatch.setattr("workspace.views.selectors.reconciliation", boom)
    client = Client(raise_request_exception=False)
    client.force_login(finance_user)

    api = client.get("/api/v1/reconciliation/", {"period": "2026-11"})
    page = client.get("/staff/reconciliation/", {"period": "2026-11"})

    assert api["Content-Type"] == "application/json"
    assert assert_shape(api, 500)["errors"] == {}
    assert "something nobody expected" not in api.content.decode()
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")
