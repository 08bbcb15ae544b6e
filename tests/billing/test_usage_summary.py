"""GET /api/v1/usage-summary/: usage of a period grouped, with CNY cost as a bill line would be."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from billing.models import ExchangeRate
from customers.models import Contract
from tests.billing.helpers import ingest, price, usage
from tests.factories import ProjectFactory, api_key_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/usage-summary/"


def summary(client, **params):
    return client.get(URL, {"customer": "ACME", "period": "2026-10", **params})


def rate(period: date, value: str) -> None:
    ExchangeRate.objects.create(currency="USD", period=period, rate=Decimal(value))


@pytest.fixture
def october(acme, acme_key, other_key, gpt4o):
    """ACME's October 2026 with a 20 % discount. USD costs: gpt-4o 0.01 + 0.01 + 0.005 on the
    chatbot key, claude-x 0.018 on the search key, one unpriced call; one call just past the
    month end and one of another customer that must not count."""
    Contract.objects.filter(customer=acme).update(discount_percent=Decimal("20"))
    search_key, _secret = api_key_for(ProjectFactory(customer=acme, code="search", name="搜索"), name="search")
    price(provider="anthropic", model="claude-x", input="3", cached="0.3", output="15")
    key = acme_key.key_id
    result = ingest(
        [
            usage(
                key,
                "r1",
                input_tokens=4000,
                cached_input_tokens=0,
                output_tokens=0,
                occurred_at="2026-10-05T10:00:00+08:00",
            ),
            usage(
                key,
                "r2",
                input_tokens=4000,
                cached_input_tokens=0,
                output_tokens=0,
                occurred_at="2026-10-05T11:00:00+08:00",
            ),
            usage(
                key,
                "r3",
                input_tokens=2000,
                cached_input_tokens=0,
                output_tokens=0,
                occurred_at="2026-10-31T23:59:59+08:00",
            ),
            usage(
                search_key.key_id,
                "r4",
                model="claude-x",
                input_tokens=1000,
                cached_input_tokens=0,
                output_tokens=1000,
                occurred_at="2026-10-05T12:00:00+08:00",
            ),
            usage(
                key,
                "r5",
                model="mystery-1",
                input_tokens=500,
                cached_input_tokens=0,
                output_tokens=5,
                occurred_at="2026-10-06T08:00:00+08:00",
            ),
            usage(
                key, "r6", input_tokens=4000, cached_input_tokens=0, output_tokens=0, occurred_at="2026-10-31T16:00:00Z"
            ),
            usage(other_key.key_id, "x1", input_tokens=4000, cached_input_tokens=0, output_tokens=0),
        ]
    )
    assert (result.accepted, result.unpriced, result.rejected) == (7, 1, [])
    return {"chatbot": acme_key.key_id, "search": search_key.key_id}


def rows(response) -> list[tuple]:
    assert response.status_code == 200, response.content
    return [
        (r["key"], r["requests"], r["input_tokens"], r["cached_input_tokens"], r["output_tokens"], r["cost"])
        for r in response.json()["rows"]
    ]


# 20 % discount × 6.25 CNY/USD = 5 CNY per USD of list cost.
MODEL_ROWS = [
    ("mystery-1", 1, 500, 0, 5, "0.00"),
    ("claude-x", 1, 1000, 0, 1000, "0.09"),  # 0.018 × 5
    ("gpt-4o", 3, 10000, 0, 0, "0.13"),  # 0.025 × 5 = 0.125, half up
]


def test_it_groups_by_model_with_discount_and_rate(finance_client, october):
    rate(date(2026, 10, 1), "6.25")

    response = summary(finance_client, group_by="model")

    assert rows(response) == MODEL_ROWS
    body = response.json()
    assert (body["customer"], body["period"], body["currency"], body["group_by"]) == ("ACME", "2026-10", "CNY", "model")
    assert (body["discount_percent"], body["missing_rates"]) == ("20.00", [])
    assert [(r["provider"], r["unpriced_requests"]) for r in body["rows"]] == [("", 1), ("anthropic", 0), ("openai", 0)]


def test_it_groups_by_project(finance_client, october):
    rate(date(2026, 10, 1), "6.25")

    assert rows(summary(finance_client, group_by="project")) == [
        ("chatbot", 4, 10500, 0, 5, "0.13"),
        ("search", 1, 1000, 0, 1000, "0.09"),
    ]


def test_it_groups_by_api_key(finance_client, october):
    rate(date(2026, 10, 1), "6.25")

    expected = sorted(
        [
            (october["chatbot"], 4, 10500, 0, 5, "0.13"),
            (october["search"], 1, 1000, 0, 1000, "0.09"),
        ]
    )
    assert rows(summary(finance_client, group_by="api_key")) == expected


def test_it_groups_by_shanghai_day_and_rounds_each_row_once(finance_client, october):
    rate(date(2026, 10, 1), "6.25")

    assert rows(summary(finance_client, group_by="day")) == [
        ("2026-10-05", 3, 9000, 0, 1000, "0.19"),  # (0.01 + 0.01 + 0.018) × 5
        ("2026-10-06", 1, 500, 0, 5, "0.00"),
        ("2026-10-31", 1, 2000, 0, 0, "0.03"),  # 0.005 × 5 = 0.025, half up
    ]


def test_it_defaults_to_grouping_by_model(finance_client, october):
    rate(date(2026, 10, 1), "6.25")

    assert rows(summary(finance_client)) == MODEL_ROWS


def test_it_uses_the_latest_rate_up_to_an_open_period(finance_client, october):
    rate(date(2026, 8, 1), "1")
    rate(date(2026, 9, 1), "6.25")
    rate(date(2026, 11, 1), "100")

    response = summary(finance_client, group_by="model")

    assert rows(response) == MODEL_ROWS
    assert response.json()["missing_rates"] == []


def test_it_prefers_the_contracts_fixed_rate(finance_client, acme, october):
    rate(date(2026, 10, 1), "6.25")
    Contract.objects.filter(customer=acme).update(fixed_exchange_rate=Decimal("12.5"))

    # 20 % discount × 12.5 = 10 CNY per USD
    assert [r[5] for r in rows(summary(finance_client, group_by="model"))] == ["0.00", "0.18", "0.25"]


def test_it_shows_no_cost_and_names_the_currency_when_a_rate_is_missing(finance_client, acme_key, october):
    price(provider="deepseek", model="deepseek-chat", currency="CNY", input="2", cached="0.5", output="8")
    ingest(
        [
            usage(
                acme_key.key_id,
                "cny",
                model="deepseek-chat",
                input_tokens=1_000_000,
                cached_input_tokens=0,
                output_tokens=0,
            )
        ]
    )
    rate(date(2026, 11, 1), "7.1")  # a later period's rate does not serve October

    response = summary(finance_client, group_by="model")

    assert rows(response) == [
        ("mystery-1", 1, 500, 0, 5, "0.00"),
        ("claude-x", 1, 1000, 0, 1000, None),
        ("deepseek-chat", 1, 1_000_000, 0, 0, "1.60"),  # 2 CNY × 0.8; CNY needs no rate
        ("gpt-4o", 3, 10000, 0, 0, None),
    ]
    assert response.json()["missing_rates"] == ["USD"]


def test_it_charges_without_discount_when_the_contract_has_none(finance_client, acme, october):
    Contract.objects.filter(customer=acme).update(discount_percent=Decimal("0"))
    rate(date(2026, 10, 1), "7.1234")

    # 0.025 × 7.1234 = 0.178085; 0.018 × 7.1234 = 0.1282212
    assert [r[5] for r in rows(summary(finance_client, group_by="model"))] == ["0.00", "0.13", "0.18"]


def test_it_is_empty_for_a_period_without_usage(finance_client, october):
    response = summary(finance_client, period="2026-09")

    assert response.status_code == 200
    assert (response.json()["rows"], response.json()["missing_rates"]) == ([], [])


def test_it_gives_the_same_rows_as_csv(finance_client, october):
    rate(date(2026, 10, 1), "6.25")
    json_rows = summary(finance_client, group_by="day").json()["rows"]

    response = summary(finance_client, group_by="day", format="csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "usage-ACME-2026-10-day.csv" in response["Content-Disposition"]
    text = response.content.decode()
    assert text.splitlines()[0] == "key,requests,input_tokens,cached_input_tokens,output_tokens,cost,unpriced_requests"
    *parsed, total = list(csv.DictReader(io.StringIO(text)))
    assert parsed == [
        {name: str(value) for name, value in row.items() if name not in ("units", "variants")} for row in json_rows
    ]
    assert [row["cost"] for row in parsed] == ["0.19", "0.00", "0.03"]
    # The last row: the counts summed, the cost the period's one figure (the bill's lines).
    assert total == {
        "key": "total",
        "requests": "5",
        "input_tokens": str(sum(row["input_tokens"] for row in json_rows)),
        "cached_input_tokens": "0",
        "output_tokens": str(sum(row["output_tokens"] for row in json_rows)),
        "cost": summary(finance_client, group_by="day").json()["total"],
        "unpriced_requests": "1",
    }
    assert [row["units"] for row in json_rows] == [{}, {}, {}]  # no added counts: no unit columns


def test_rows_carry_the_units_that_appear_in_json_and_as_csv_columns(finance_client, acme_key, october):
    ingest(
        [
            usage(
                acme_key.key_id, "u1", cache_write_tokens=300, web_searches=2, occurred_at="2026-10-07T10:00:00+08:00"
            ),
            usage(acme_key.key_id, "u2", web_searches=1, occurred_at="2026-10-07T11:00:00+08:00"),
            usage(
                acme_key.key_id,
                "u3",
                processing="batch",
                output_reasoning_tokens=40,
                occurred_at="2026-10-08T10:00:00+08:00",
            ),
        ]
    )

    json_rows = {row["key"]: row for row in summary(finance_client, group_by="day").json()["rows"]}
    text = summary(finance_client, group_by="day", format="csv").content.decode()

    assert json_rows["2026-10-07"]["units"] == {"cache_write_tokens": 300, "web_searches": 3}
    assert json_rows["2026-10-08"]["units"] == {"output_reasoning_tokens": 40}  # a batch call, unpriced here
    assert json_rows["2026-10-05"]["units"] == {}
    assert text.splitlines()[0] == (
        "key,requests,input_tokens,cached_input_tokens,output_tokens,cache_write_tokens,output_reasoning_tokens,"
        "web_searches,cost,unpriced_requests"
    )
    parsed = {row["key"]: row for row in csv.DictReader(io.StringIO(text))}
    assert (parsed["2026-10-07"]["web_searches"], parsed["2026-10-07"]["output_reasoning_tokens"]) == ("3", "0")
    assert parsed["2026-10-08"]["output_reasoning_tokens"] == "40"


def test_it_writes_a_missing_cost_as_an_empty_csv_cell(finance_client, october):
    response = summary(finance_client, group_by="project", format="csv")

    parsed = list(csv.DictReader(io.StringIO(response.content.decode())))
    # The total counts what has a rate (nothing yet); missing_rates says so beside it.
    assert [(row["key"], row["cost"]) for row in parsed] == [("chatbot", ""), ("search", ""), ("total", "0.00")]


# --- Who may read it -------------------------------------------------------------------------


def test_it_lets_alice_and_bob_read_their_customers_usage(alice_client, bob_client, october):
    rate(date(2026, 10, 1), "6.25")

    assert rows(summary(alice_client)) == MODEL_ROWS
    assert rows(summary(bob_client)) == MODEL_ROWS
    assert rows(bob_client.get(URL, {"period": "2026-10"})) == MODEL_ROWS  # their own customer by default


def test_it_answers_404_to_charlie_for_acme(charlie_client, october):
    response = summary(charlie_client)

    assert response.status_code == 404
    assert set(response.json()) == {"detail", "errors"}
    assert summary(charlie_client, format="csv").status_code == 404


def test_it_answers_403_to_the_gateway_and_401_without_a_token(gateway_client, client, october):
    assert summary(gateway_client).status_code == 403
    assert client.get(URL, {"customer": "ACME", "period": "2026-10"}).status_code == 401


def test_it_answers_404_to_finance_for_an_unknown_customer(finance_client, october):
    assert summary(finance_client, customer="NOPE").status_code == 404


def test_it_needs_finance_to_name_the_customer(finance_client, october):
    response = finance_client.get(URL, {"period": "2026-10"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["customer"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "provider"}, "group_by"),
        ({"group_by": ""}, "group_by"),
        ({"period": "2026-13"}, "period"),
        ({"period": "2026-1"}, "period"),
        ({"period": "october"}, "period"),
    ],
)
def test_it_answers_400_naming_the_bad_parameter(finance_client, alice_client, october, params, field):
    for reader in (finance_client, alice_client):
        response = summary(reader, **params)

        assert response.status_code == 400, response.content
        assert list(response.json()["errors"]) == [field]
