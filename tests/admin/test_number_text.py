"""Counts and quantities read 1,234,567 in Chinese as in English: Django's intcomma follows
the locale, and zh-Hans groups digits by nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from common.admin_display import count_text, number_text


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_numbers_are_grouped_by_commas_in_every_language(language):
    with translation.override(language):
        assert number_text(1234567) == "1,234,567"
        assert number_text(Decimal("1234567.00")) == "1,234,567"
        assert number_text(Decimal("-1238.8")) == "-1,238.80"
        assert number_text(Decimal("0.00012345")) == "0.00012345"
        assert count_text(1234567) == "1,234,567"
        assert count_text(None) == "—"
