"""Bad input answers 400 naming the field, and nothing is written; only presales and
finance staff may use the presales API."""

from __future__ import annotations

import copy
import re

import pytest

from presales.models import Estimate, EstimateOption, Workload
from tests.presales.conftest import ESTIMATES_URL, goods_request

pytestmark = pytest.mark.django_db


def with_workload(**changes) -> dict:
    body = goods_request()
    body["workloads"][0].update(changes)
    return body


def without(field: str) -> dict:
    body = goods_request()
    del body["workloads"][0][field]
    return body


def many_workloads(n: int) -> dict:
    body = goods_request()
    template = body["workloads"][0]
    body["workloads"] = [{**copy.deepcopy(template), "name": f"负载 {i}"} for i in range(n)]
    return body


BAD = [
    pytest.param(
        with_workload(models=[{"provider": "openai", "model": "gpt-9"}]),
        "workloads[0].models[0].model",
        id="unknown model",
    ),
    pytest.param(
        with_workload(models=[{"provider": "openai", "model": "gpt-4o"}, {"provider": "acme", "model": "gpt-4o"}]),
        "workloads[0].models[1].model",
        id="unknown provider of a known model",
    ),
    pytest.param(with_workload(daily_requests=-1), "workloads[0].daily_requests", id="negative requests"),
    pytest.param(with_workload(daily_requests=10.5), "workloads[0].daily_requests", id="non-integer requests"),
    pytest.param(with_workload(input_tokens=-5), "workloads[0].input_tokens", id="negative input tokens"),
    pytest.param(with_workload(output_tokens="三百"), "workloads[0].output_tokens", id="non-integer output tokens"),
    pytest.param(with_workload(input_tokens=1.5), "workloads[0].input_tokens", id="fractional tokens"),
    pytest.param(without("daily_requests"), "workloads[0].daily_requests", id="neither daily nor qps"),
    pytest.param(with_workload(average_qps="2"), "workloads[0].daily_requests", id="both daily and qps"),
    pytest.param(with_workload(daily_requests=None, average_qps="-0.1"), "workloads[0].average_qps", id="negative qps"),
    pytest.param(with_workload(cached_share="1.01"), "workloads[0].cached_share", id="share above 1"),
    pytest.param(with_workload(cached_share="-0.1"), "workloads[0].cached_share", id="share below 0"),
    pytest.param(with_workload(models=[]), "workloads[0].models", id="no model"),
    pytest.param(
        with_workload(models=[{"provider": "openai", "model": f"m{i}"} for i in range(11)]),
        "workloads[0].models",
        id="11 models",
    ),
    pytest.param(many_workloads(21), "workloads", id="21 workloads"),
    pytest.param(goods_request(workloads=[]), "workloads", id="no workload"),
    pytest.param(
        goods_request(workloads=[goods_request()["workloads"][0]] * 2), "workloads[1].name", id="two workloads one name"
    ),
    pytest.param(goods_request(prospect=""), "prospect", id="no prospect"),
    pytest.param(goods_request(days_per_month=27), "days_per_month", id="27 days"),
    pytest.param(goods_request(discount_percent="101"), "discount_percent", id="discount over 100"),
    pytest.param(goods_request(monthly_growth_percent="-1"), "monthly_growth_percent", id="negative growth"),
    pytest.param(goods_request(vat_rate="1.5"), "vat_rate", id="vat over 1"),
    pytest.param(goods_request(fixed_exchange_rate="0"), "fixed_exchange_rate", id="zero fixed rate"),
    pytest.param(goods_request(as_of="yesterday"), "as_of", id="bad as_of"),
]


@pytest.mark.parametrize(("body", "field"), BAD)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(presales_client, price_book, usd_rate, body, field):
    response = presales_client.post(ESTIMATES_URL, body, format="json")

    assert response.status_code == 400, response.json()
    answer = response.json()
    assert field in answer["errors"], answer
    assert field.split(".")[0].split("[")[0] in answer["detail"]
    assert (Estimate.objects.count(), Workload.objects.count(), EstimateOption.objects.count()) == (0, 0, 0)


def test_20_workloads_of_10_models_are_accepted(presales_client, price_book, usd_rate):
    body = many_workloads(20)
    for workload in body["workloads"]:
        workload["models"] = [{"provider": "openai", "model": "gpt-4o"}] * 5 + [
            {"provider": "openai", "model": "gpt-4o-mini"}
        ] * 5

    response = presales_client.post(ESTIMATES_URL, body, format="json")

    assert response.status_code == 201
    assert len(response.json()["options"]) == 200


def test_a_missing_rate_for_the_price_currency_is_a_400_naming_fixed_exchange_rate(presales_client, price_book):
    response = presales_client.post(ESTIMATES_URL, goods_request(), format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["fixed_exchange_rate"]
    assert "USD" in errors["fixed_exchange_rate"][0]
    assert Estimate.objects.count() == 0


def test_a_cny_priced_model_needs_no_rate(presales_client, price_book):
    body = with_workload(models=[{"provider": "deepseek", "model": "deepseek-chat"}])

    assert presales_client.post(ESTIMATES_URL, body, format="json").status_code == 201


def test_the_unknown_model_is_named_in_the_users_language(presales_client, price_book, usd_rate):
    body = with_workload(models=[{"provider": "openai", "model": "gpt-9"}])

    zh = presales_client.post(ESTIMATES_URL, body, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    en = presales_client.post(ESTIMATES_URL, body, format="json", HTTP_ACCEPT_LANGUAGE="en").json()

    assert "openai/gpt-9" in zh["errors"]["workloads[0].models[0].model"][0]
    assert "未知模型" in zh["errors"]["workloads[0].models[0].model"][0]
    assert en["errors"]["workloads[0].models[0].model"][0].startswith("Unknown model openai/gpt-9")


def test_an_unknown_model_gets_the_price_books_close_names_and_a_plain_timestamp(presales_client, price_book, usd_rate):
    from tests.billing.close_helpers import price

    price(model="claude-haiku-4-5", provider="anthropic", input="1", cached="0.1", output="5")
    body = with_workload(models=[{"provider": "anthropic", "model": "claude-haiku"}])

    en = presales_client.post(ESTIMATES_URL, body, format="json", HTTP_ACCEPT_LANGUAGE="en").json()
    zh = presales_client.post(ESTIMATES_URL, body, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans").json()

    message = en["errors"]["workloads[0].models[0].model"][0]
    assert "Did you mean anthropic/claude-haiku-4-5?" in message
    assert re.search(r"at \d{4}-\d{2}-\d{2} \d{2}:\d{2}\.", message), message  # no seconds, no microseconds
    assert "anthropic/claude-haiku-4-5" in zh["errors"]["workloads[0].models[0].model"][0]


# --- Access ------------------------------------------------------------------------------


def test_a_customer_portal_user_gets_403_and_nothing_is_written(alice_client, price_book, usd_rate):
    response = alice_client.post(ESTIMATES_URL, goods_request(), format="json")

    assert response.status_code == 403
    assert Estimate.objects.count() == 0


def test_a_signed_out_caller_gets_401(client, price_book, usd_rate):
    response = client.post(ESTIMATES_URL, goods_request(), content_type="application/json")

    assert response.status_code == 401


def test_presales_and_finance_may_estimate(presales_client, finance_client, price_book, usd_rate):
    assert presales_client.post(ESTIMATES_URL, goods_request(), format="json").status_code == 201
    assert finance_client.post(ESTIMATES_URL, goods_request(), format="json").status_code == 201


def test_a_portal_user_cannot_read_an_estimate(presales_client, alice_client, price_book, usd_rate):
    created = presales_client.post(ESTIMATES_URL, goods_request(), format="json").json()

    assert alice_client.get(f"{ESTIMATES_URL}{created['id']}/").status_code == 403
    assert presales_client.get(f"{ESTIMATES_URL}{created['id'] + 1}/").status_code == 404


def test_unknown_estimates_and_proposals_are_404(presales_client):
    assert presales_client.get(f"{ESTIMATES_URL}999/").status_code == 404
    assert presales_client.post(f"{ESTIMATES_URL}999/proposals/", {}, format="json").status_code == 404
    assert presales_client.get("/api/v1/presales/proposals/PROP-2026-9999/").status_code == 404
    assert (
        presales_client.post("/api/v1/presales/proposals/PROP-2026-9999/accept/", {}, format="json").status_code == 404
    )
