"""The presales charts, drawn by the shared SVG helper (common/charts.py) from the same
figures the tables beside them show."""

from __future__ import annotations

from decimal import Decimal

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from common import charts

# common.charts names a screen font; a PDF must use the one embedded font (pdf/base.html).
SCREEN_FONT = 'font-family="system-ui, sans-serif"'


def options_chart_svg(options: list[dict]) -> SafeString:
    """Monthly amount of every option (the estimate answer's ``options``), for comparison."""
    rows = [(f"{o['workload']} · {o['model']}", Decimal(o["monthly_amount"])) for o in options]
    return charts.horizontal_bars(rows, label=_("Monthly amount per option (CNY, before VAT)"))


def months_chart_svg(series: list[tuple[str, list[Decimal]]], *, for_pdf: bool = False) -> SafeString:
    """The twelve months of each chosen option, one line each."""
    svg = charts.lines(
        [str(i) for i in range(1, 13)], series, label=_("Twelve months (CNY, before VAT)"), width=640, height=220
    )
    if for_pdf:
        from common.pdf import PDF_FONT_FAMILY

        svg = mark_safe(svg.replace(SCREEN_FONT, f'font-family="{PDF_FONT_FAMILY}"'))
    return svg
