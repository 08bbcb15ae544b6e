"""Every runtime package requirements.in pins is used: imported (or named, as an app or a
command) by the project's code. A pin nothing uses is a package to install, update and
audit for nothing (cn2an was one: ``billing.pricing.money.rmb_upper`` writes 人民币大写)."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = ["common", "customers", "billing", "invoices", "banking", "gateways", "presales", "portal", "procurement"]
CODE += ["workspace", "integrations", "scripts", "bench", "tests", "docs"]
# Used without an import of their own, each for its reason.
NOT_IMPORTED = {
    "psycopg-binary": "psycopg's compiled implementation, loaded by psycopg",
    "kombu": "celery's messaging library: the broker transports (Redis, the filesystem one)",
    "packaging": "kombu's Redis transport needs it (README, Dependencies)",
    "tzdata": "the time-zone database zoneinfo reads where the system has none",
    "py-moneyed": "django-money's Money type, pinned at a version django-money supports",
}


def runtime_requirements() -> list[str]:
    runtime = (ROOT / "requirements.in").read_text(encoding="utf-8").split("# Tests and tooling")[0]
    return [re.split(r"[=\[<>~ ]", line.strip())[0] for line in runtime.splitlines() if line.strip()[:1].isalpha()]


def module_names(distribution: str) -> set[str]:
    key = distribution.lower().replace("_", "-")
    return {
        module
        for module, distributions in importlib.metadata.packages_distributions().items()
        if key in {d.lower().replace("_", "-") for d in distributions}
    }


def project_text() -> str:
    files = [path for folder in CODE for path in (ROOT / folder).rglob("*.py") if path != Path(__file__).resolve()]
    files += [ROOT / "Makefile", *sorted((ROOT / "scripts").glob("*"))]
    return "\n".join(path.read_text(encoding="utf-8", errors="replace") for path in files if path.is_file())


def test_every_runtime_requirement_is_used():
    text = project_text()
    unused = []
    for distribution in runtime_requirements():
        if distribution in NOT_IMPORTED:
            continue
        modules = module_names(distribution)
        assert modules, f"{distribution} is not installed"
        used = any(re.search(rf"(^\s*(import|from)\s+{m}\b)|([\"']{m}[\"'.])", text, re.M) for m in modules)
        if not used:
            unused.append(distribution)
    assert unused == []


def test_cn2an_is_gone_rmb_upper_writes_the_uppercase():
    assert "cn2an" not in runtime_requirements()
    assert not re.search(r"^cn2an==", (ROOT / "requirements.txt").read_text(encoding="utf-8"), re.M)
