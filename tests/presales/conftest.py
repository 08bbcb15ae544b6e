"""Presales fixtures: a small price book (two OpenAI models, one later gpt-4o price, a CNY
model), the October 2026 USD rate, and the API clients of pete (presales) and fiona (finance)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing.pricing.services import exchange_rate_set
from tests.billing.helpers import price
from tests.conftest import client_for

ESTIMATES_URL = "/api/v1/presales/estimates/"
AS_OF = "2026-11-05T10:00:00+08:00"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Proposal PDFs are stored once rendered: into a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def price_book(db):
    return {
        "gpt-4o": price(model="gpt-4o", input="2.5", cached="1.25", output="10"),
        "gpt-4o-later": price(model="gpt-4o", effective_from=date(2026, 12, 1), input="2", cached="1", output="8"),
        "gpt-4o-mini": price(model="gpt-4o-mini", input="0.15", cached="0.075", output="0.6"),
        "deepseek-chat": price(
            provider="deepseek", model="deepseek-chat", input="2", cached="0.5", output="8", currency="CNY"
        ),
    }


@pytest.fixture
def usd_rate(db):
    return exchange_rate_set(currency="USD", period=date(2026, 10, 1), rate=Decimal("7.1"))[0]


@pytest.fixture
def presales_client(presales_user):
    return client_for(presales_user)


def goods_request(**overrides) -> dict:
    """The issue's example: 5 万条商品描述/天, 800 in / 300 out, 30 % cached."""
    body = {
        "prospect": "杭州云栖电商有限公司",
        "scenario": "商品描述生成",
        "workloads": [
            {
                "name": "商品描述",
                "daily_requests": 50000,
                "input_tokens": 800,
                "output_tokens": 300,
                "cached_share": "0.30",
                "models": [{"provider": "openai", "model": "gpt-4o"}, {"provider": "openai", "model": "gpt-4o-mini"}],
            }
        ],
        "days_per_month": 30,
        "monthly_growth_percent": "5",
        "discount_percent": "8",
        "vat_rate": "0.06",
        "as_of": AS_OF,
    }
    body.update(overrides)
    return body
