"""The providers' export files as those APIs and consoles give them (fixtures/), read with
their known totals; bad rows come back with their line (CSV) or JSON path and the field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from workspace.parsers import (
    ANTHROPIC_COSTS,
    OPENAI_COSTS,
    OPENAI_USAGE,
    UnreadableFile,
    parse_export,
)

FIXTURES = Path(__file__).parent / "fixtures"


def parse(provider: str, name: str):
    return parse_export(provider=provider, file_name=name, content=(FIXTURES / name).read_bytes())


def totals(parsed) -> dict:
    out: dict = {}
    for row in parsed.rows:
        out[(row.day, row.model)] = out.get((row.day, row.model), Decimal(0)) + row.cost
    return out


def errors(parsed) -> list[tuple]:
    return [(e.line, e.location, e.field) for e in parsed.errors]


def test_it_reads_the_openai_costs_api_answer_by_line_item():
    parsed = parse("openai", "openai_costs.json")
    assert parsed.kind == OPENAI_COSTS
    assert totals(parsed) == {
        (date(2026, 11, 10), "gpt-4o-2024-08-06"): Decimal("3.625"),
        (date(2026, 11, 10), "gpt-4o-mini-2024-07-18"): Decimal("0.0301875"),
        (date(2026, 11, 11), "gpt-4o-2024-08-06"): Decimal("9.0"),
    }
    assert sum(totals(parsed).values()) == Decimal("12.6551875")
    assert {row.currency for row in parsed.rows} == {"USD"}
    assert all(isinstance(row.cost, Decimal) for row in parsed.rows)  # never a float
    assert parsed.errors == []


def test_it_reads_the_openai_costs_csv_and_reports_bad_lines():
    parsed = parse("openai", "openai_costs.csv")
    assert parsed.kind == OPENAI_COSTS
    assert totals(parsed) == {
        (date(2026, 11, 10), "gpt-4o-2024-08-06"): Decimal("3.5"),
        (date(2026, 11, 12), "gpt-4o-2024-08-06"): Decimal("3.25"),
    }
    # line 4: amount "abc"; line 5 is a day without spend (skipped); line 6 has no line item
    assert errors(parsed) == [(4, "", "amount_value"), (6, "", "line_item")]


def test_it_reads_the_openai_completions_usage_answer():
    parsed = parse("openai", "openai_usage.json")
    assert parsed.kind == OPENAI_USAGE
    rows = {(r.day, r.model): (r.requests, r.input_tokens, r.cached_input_tokens, r.output_tokens) for r in parsed.rows}
    assert rows == {
        (date(2026, 11, 10), "gpt-4o-2024-08-06"): (40, 1_000_000, 100_000, 100_000),
        (date(2026, 11, 10), "gpt-4o-mini-2024-07-18"): (12, 201_250, 0, 0),
        (date(2026, 11, 11), "gpt-4o-2024-08-06"): (75, 2_000_000, 0, 400_000),
    }
    assert errors(parsed) == [(None, "data[1].results[1]", "input_cached_tokens")]


def test_it_reads_the_openai_usage_csv():
    parsed = parse("openai", "openai_usage.csv")
    assert parsed.kind == OPENAI_USAGE
    assert sum(r.input_tokens for r in parsed.rows) == 3_000_000
    assert sum(r.output_tokens for r in parsed.rows) == 500_000
    assert errors(parsed) == [(4, "", "model")]


def test_it_reads_the_anthropic_cost_report_amounts_as_cents():
    parsed = parse("anthropic", "anthropic_cost_report.json")
    assert parsed.kind == ANTHROPIC_COSTS
    # "300.00" + "150.00" + "1.5" cents = 451.5 cents = $4.515; "123.45" cents = $1.2345
    assert totals(parsed) == {
        (date(2026, 11, 10), "claude-sonnet-4-20250514"): Decimal("4.515"),
        (date(2026, 11, 11), "claude-3-5-haiku-20241022"): Decimal("1.2345"),
    }
    assert errors(parsed) == [(None, "data[1].results[1]", "model")]  # web search: no model


def test_it_reads_the_anthropic_cost_csv_and_reports_bad_lines():
    parsed = parse("anthropic", "anthropic_cost_report.csv")
    assert totals(parsed) == {(date(2026, 11, 10), "claude-sonnet-4-20250514"): Decimal("4.50")}
    assert errors(parsed) == [(4, "", "amount"), (5, "", "starting_at")]


@pytest.mark.parametrize(
    ("provider", "content"),
    [
        ("openai", b'{"object": "page"}'),
        ("openai", b"{not json"),
        ("openai", b"day,model,cost\n2026-11-10,gpt-4o,1\n"),
        ("anthropic", b"date,cost\n"),
        ("openai", b"\xff\xfe"),
    ],
)
def test_it_refuses_a_file_that_is_no_export(provider, content):
    with pytest.raises(UnreadableFile):
        parse_export(provider=provider, file_name="x", content=content)
