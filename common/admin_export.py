"""Admin actions for the lists: export the selected rows, with the columns the list shows,
as CSV (UTF-8 with a BOM, so Excel opens Chinese text correctly) or as XLSX (numbers,
money and dates as typed cells Excel can sum and sort)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib import admin
from django.contrib.admin.utils import label_for_field, lookup_field
from django.db import models
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from common.exports import csv_response, xlsx_response


def _columns(modeladmin, request) -> list[str]:
    return [name for name in modeladmin.get_list_display(request) if name != "action_checkbox"]


def _filename(queryset, extension: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return f"{queryset.model._meta.model_name}-{stamp}.{extension}"


def _table(modeladmin, request, queryset) -> tuple[list[str], list[list]]:
    """The list's columns for the selected rows, typed (common.exports writes them)."""
    columns = _columns(modeladmin, request)
    header = [str(label_for_field(name, queryset.model, modeladmin)) for name in columns]
    rows = []
    for obj in queryset:
        row = []
        for name in columns:
            field, _attr, value = lookup_field(name, obj, modeladmin)
            row.append(_typed(field, value))
        rows.append(row)
    return header, rows


@admin.action(description=_("Export selected rows as CSV"))
def export_as_csv(modeladmin, request, queryset):
    header, rows = _table(modeladmin, request, queryset)
    return csv_response(header=header, rows=rows, filename=_filename(queryset, "csv"))


def _typed(field, value):
    """A list cell as the value an export should store: numbers, money and dates keep their type."""
    if value is None:
        return None
    if isinstance(field, models.Field) and field.flatchoices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, (Money, Decimal, int, float, date)):  # bool is an int; datetime a date
        return value
    return strip_tags(str(value))


@admin.action(description=_("Export selected rows as XLSX"))
def export_as_xlsx(modeladmin, request, queryset):
    header, rows = _table(modeladmin, request, queryset)
    return xlsx_response(
        title=str(queryset.model._meta.verbose_name_plural),
        header=header,
        rows=rows,
        filename=_filename(queryset, "xlsx"),
    )
