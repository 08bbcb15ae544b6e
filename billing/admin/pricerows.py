"""The price maps of a price version as rows a finance clerk reads and edits in the admin: a row
per key (and per tier), variants and windows as rows of their own — never a JSON text box.

The rows are turned into ``prices`` / ``variants`` / ``windows`` and validated by the one
validator (``billing.pricing.pricemaps.price_maps_clean``); its errors, which name the path
(``prices.input_mtok.tiers[1].start``), are shown on the table they belong to.
"""

from __future__ import annotations

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from billing.pricing import pricemaps

MAX_ROWS = 400
EXTRA_ROWS = 3

PRICE_COLUMNS = [
    ("key", gettext_lazy("price key")),
    ("start", gettext_lazy("tier: above input tokens (blank = base)")),
    ("price", gettext_lazy("price")),
]
VARIANT_COLUMNS = [
    ("processing", gettext_lazy("processing")),
    ("service_tier", gettext_lazy("service tier")),
    *PRICE_COLUMNS,
]
WINDOW_COLUMNS = [
    ("from", gettext_lazy("from (HH:MM)")),
    ("to", gettext_lazy("to (HH:MM, exclusive)")),
    ("weekdays", gettext_lazy("weekdays (1 = Monday; blank = every day)")),
    *PRICE_COLUMNS,
]


class PriceRowsWidget(forms.Widget):
    """A table of text inputs (a select for the key), ``{name}-{row}-{column}``, with a few blank
    rows to add more; ``{name}-TOTAL`` says how many rows were sent."""

    def __init__(self, columns, attrs=None):
        super().__init__(attrs)
        self.columns = columns

    def _cell(self, name: str, column: str, value: str) -> str:
        if column == "key":
            options = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((key, mark_safe(" selected") if key == value else "", key) for key in ("", *pricemaps.price_keys())),
            )
            return format_html('<td><select name="{}">{}</select></td>', name, options)
        size = 10 if column in ("start", "price", "from", "to") else 14
        return format_html('<td><input type="text" name="{}" value="{}" size="{}"></td>', name, value, size)

    def render(self, name, value, attrs=None, renderer=None):
        rows = list(value or []) + [{}] * EXTRA_ROWS
        head = format_html_join("", "<th>{}</th>", ((label,) for _c, label in self.columns))
        body = format_html_join(
            "",
            "<tr>{}</tr>",
            (
                (
                    mark_safe(
                        "".join(
                            self._cell(f"{name}-{index}-{column}", column, str(row.get(column, "")))
                            for column, _label in self.columns
                        )
                    ),
                )
                for index, row in enumerate(rows)
            ),
        )
        return format_html(
            '<table class="price-rows"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>'
            '<input type="hidden" name="{}-TOTAL" value="{}">',
            head,
            body,
            name,
            len(rows),
        )

    def value_from_datadict(self, data, files, name):
        total = data.get(f"{name}-TOTAL")
        if total is None:
            return None  # the table was not sent: keep what the version has
        try:
            count = min(int(total), MAX_ROWS)
        except ValueError:
            count = 0
        rows = []
        for index in range(count):
            row = {column: str(data.get(f"{name}-{index}-{column}", "")).strip() for column, _label in self.columns}
            if any(row.values()):
                rows.append(row)
        return rows

    def value_omitted_from_data(self, data, files, name):
        return f"{name}-TOTAL" not in data


class PriceRowsField(forms.Field):
    def __init__(self, columns, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(widget=PriceRowsWidget(columns), **kwargs)


def table(columns, rows: list[dict[str, str]]) -> str:
    """The rows as a read-only HTML table (a locked version's page)."""
    if not rows:
        return "—"
    head = format_html_join("", "<th>{}</th>", ((label,) for _c, label in columns))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        (
            (format_html_join("", "<td>{}</td>", ((row.get(column, ""),) for column, _label in columns)),)
            for row in rows
        ),
    )
    return format_html('<table class="price-rows"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', head, body)
