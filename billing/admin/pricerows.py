"""The price maps of a price version as rows a finance clerk reads and edits in the admin: a row
per key (and per tier), variants and windows as rows of their own — never a JSON text box.

The rows are turned into ``prices`` / ``variants`` / ``windows`` and validated by the one
validator (``billing.pricing.pricemaps.price_maps_clean``); its errors, which name the path
(``prices.input_mtok.tiers[1].start``), are shown on the table they belong to.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
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


# --- rows ⇄ maps -------------------------------------------------------------------------------


def map_rows(prices: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for key, value in prices.items():
        if isinstance(value, dict):
            rows.append({"key": key, "start": "", "price": value["base"]})
            rows += [{"key": key, "start": str(t["start"]), "price": t["price"]} for t in value["tiers"]]
        else:
            rows.append({"key": key, "start": "", "price": value})
    return rows


def rows_map(rows: list[dict[str, str]], where: str, errors: list[str]) -> dict[str, Any]:
    """Rows (key, start, price) as a price map; a key's row without a start is its base."""
    bases: dict[str, str] = {}
    tiers: dict[str, list[dict]] = {}
    for row in rows:
        key, start, price = row.get("key", ""), row.get("start", ""), row.get("price", "")
        if not key:
            errors.append(_("%(where)s: a row without a price key.") % {"where": where})
            continue
        if not start:
            if key in bases:
                errors.append(_("%(where)s: %(key)s has two rows without a tier start.") % {"where": where, "key": key})
            bases[key] = price
            continue
        try:
            tier_start = int(start)
        except ValueError:
            errors.append(_("%(where)s.%(key)s: the tier start is a whole number.") % {"where": where, "key": key})
            continue
        tiers.setdefault(key, []).append({"start": tier_start, "price": price})
    out: dict[str, Any] = {}
    for key in dict.fromkeys([*bases, *tiers]):
        if key in tiers:
            if key not in bases:
                errors.append(
                    _("%(where)s.%(key)s: add a row without a start for the base price.") % {"where": where, "key": key}
                )
                continue
            out[key] = {"base": bases[key], "tiers": tiers[key]}
        else:
            out[key] = bases[key]
    return out


def variant_rows(variants: list[dict]) -> list[dict[str, str]]:
    rows = []
    for variant in variants:
        when = {
            "processing": variant["when"].get("processing", ""),
            "service_tier": variant["when"].get("service_tier", ""),
        }
        prices = map_rows(variant["prices"]) or [{"key": "", "start": "", "price": ""}]
        rows += [{**when, **row} for row in prices]
    return rows


def rows_variants(rows: list[dict[str, str]], errors: list[str]) -> list[dict]:
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row.get("processing", ""), row.get("service_tier", "")), []).append(row)
    variants = []
    for index, ((processing, service_tier), group) in enumerate(groups.items()):
        when = {key: value for key, value in (("processing", processing), ("service_tier", service_tier)) if value}
        priced = [row for row in group if row.get("key") or row.get("price") or row.get("start")]
        variants.append({"when": when, "prices": rows_map(priced, f"variants[{index}].prices", errors)})
    return variants


def _weekdays_text(weekdays: list[int] | None) -> str:
    return ",".join(map(str, weekdays or []))


def _weekdays(text: str, where: str, errors: list[str]) -> list[int] | None:
    if not text:
        return None
    days: list[int] = []
    try:
        for part in text.replace(" ", "").split(","):
            first, _sep, last = part.partition("-")
            days += list(range(int(first), int(last or first) + 1))
    except ValueError:
        errors.append(_("%(where)s.weekdays: write days 1–7 like 1-5 or 1,3,5.") % {"where": where})
        return None
    return days


def window_rows(windows: list[dict]) -> list[dict[str, str]]:
    rows = []
    for window in windows:
        head = {"from": window["start"], "to": window["end"], "weekdays": _weekdays_text(window.get("weekdays"))}
        rows += [{**head, **row} for row in map_rows(window["prices"])]
    return rows


def rows_windows(rows: list[dict[str, str]], errors: list[str]) -> list[dict]:
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row.get("from", ""), row.get("to", ""), row.get("weekdays", "")), []).append(row)
    windows = []
    for index, ((start, end, weekdays), group) in enumerate(groups.items()):
        where = f"windows[{index}]"
        window: dict[str, Any] = {"start": start, "end": end}
        days = _weekdays(weekdays, where, errors)
        if days is not None:
            window["weekdays"] = days
        window["prices"] = rows_map(group, f"{where}.prices", errors)
        windows.append(window)
    return windows


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
