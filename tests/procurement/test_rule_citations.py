"""The rules the code cites are the project's own (issue 24, item 7): every "money rule N",
"estimate rule N" and "matching rule N" in the code and the tests is defined in
docs/money-rules.md, and every module citing one points there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "money-rules.md"
PACKAGES = ["banking", "bench", "billing", "common", "customers", "gateways", "invoices", "portal", "presales"]
PACKAGES += ["procurement", "workspace", "tests"]
# Modules being rewritten on other branches as this lands (issue 24, items 2 and 3): their
# citations get the pointer when those branches merge. Remove each once it has it.
CITATION = re.compile(r"(?i)\b(money|estimate|matching) rules? (\d+′?(?:\s*(?:–|-|and|,)\s*\d+′?)*)")
DEFINED = re.compile(r"^\*\*(Estimate |Matching )?[Rr]ule (\d+′?)(?!\d)", re.MULTILINE)


def _defined() -> set[tuple[str, str]]:
    return {((kind or "money ").strip().lower(), number) for kind, number in DEFINED.findall(DOC.read_text())}


def _numbers(text: str) -> list[str]:
    """'4–10' → 4 … 10; '5 and 8' → 5, 8; '2′' stays."""
    numbers: list[str] = []
    for part in re.split(r"\s*(?:and|,)\s*", text):
        bounds = re.split(r"\s*[–-]\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
            numbers += [str(n) for n in range(int(bounds[0]), int(bounds[1]) + 1)]
        else:
            numbers += bounds
    return numbers


def _sources():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts and path != Path(__file__):
                yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")


def test_the_document_defines_the_rules_of_the_contract():
    defined = _defined()
    money = {("money", str(n)) for n in range(1, 13)} | {("money", "2′")}
    estimate = {("estimate", str(n)) for n in range(1, 6)}
    matching = {("matching", str(n)) for n in range(1, 4)}
    assert money | estimate | matching <= defined


def test_the_citation_reader_reads_ranges_lists_and_primes():
    assert _numbers("4–10") == ["4", "5", "6", "7", "8", "9", "10"]
    assert _numbers("5 and 8") == ["5", "8"]
    assert _numbers("2′") == ["2′"]


def test_every_rule_the_code_cites_is_in_docs_money_rules():
    defined = _defined()
    cited: dict[tuple[str, str], str] = {}
    for name, text in _sources():
        for kind, numbers in CITATION.findall(text):
            for number in _numbers(numbers):
                cited.setdefault((kind.lower(), number), name)
    assert len(cited) >= 15  # the scan finds the citations (money 1–12, 2′, estimate, matching)
    missing = {rule: where for rule, where in cited.items() if rule not in defined}
    assert missing == {}


def test_every_module_citing_a_rule_points_to_the_document():
    citing = [name for name, text in _sources() if CITATION.search(text)]
    unpointed = [name for name, text in _sources() if CITATION.search(text) and "docs/money-rules.md" not in text]
    assert len(citing) >= 30
    assert sorted(set(unpointed)) == []
