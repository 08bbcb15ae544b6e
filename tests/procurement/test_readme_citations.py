"""Where the code sends a reader to a section of README.md (``README, "Storage and
growth"``), that section exists: a heading of that name (or starting with it)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ["common", "customers", "billing", "invoices", "banking", "gateways", "presales", "portal", "procurement"]
FOLDERS += ["workspace", "integrations", "bench", "docs", "tests"]
CITATION = re.compile(r"README(?:'s|,)?\s+[\"“]([^\"”\n]{2,80})[\"”]")


def headings() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [line.lstrip("#").strip().replace("`", "") for line in text.splitlines() if re.match(r"#{1,4} ", line)]


def citations() -> list[tuple[str, str]]:
    found = []
    for folder in FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            for name in CITATION.findall(path.read_text(encoding="utf-8")):
                found.append((str(path.relative_to(ROOT)), name))
    return found


def test_the_code_cites_readme_sections():
    assert ("billing/metering/ingest.py", "How the money flows") in citations()


def test_every_cited_readme_section_exists():
    known = headings()
    missing = [(path, name) for path, name in citations() if not any(h.startswith(name) for h in known)]
    assert missing == []
