"""Writes of the workspace: importing a provider's cost or usage export."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from billing.models import ModelAlias
from common.uploads import UploadError, text_field
from workspace.models import Provider, ProviderCost, ProviderCostImport
from workspace.parsers import MAX_LISTED_ERRORS, OPENAI_USAGE, Parsed, Row, parse_export

USAGE_FIELDS = ("requests", "input_tokens", "cached_input_tokens", "output_tokens")


def _canonical_models(provider: str, rows: list[Row]) -> dict[str, str]:
    """The provider's model names (``gpt-4o-2024-08-06``) as our meter names them (``gpt-4o``),
    through the price book's aliases; a name without an alias stays as it is."""
    names = {row.model for row in rows}
    aliases = ModelAlias.objects.filter(provider=provider, alias__in=names).values_list("alias", "model")
    return {name: name for name in names} | dict(aliases)


def _totals(parsed: Parsed, models: dict[str, str]) -> dict[tuple[date, str], dict]:
    """The file's rows summed per (day, model): a day's line items (input, output, cached
    input …) or snapshots of one model make one figure."""
    totals: dict[tuple[date, str], dict] = defaultdict(lambda: defaultdict(Decimal))
    for row in parsed.rows:
        total = totals[(row.day, models[row.model])]
        if parsed.kind == OPENAI_USAGE:
            for name in USAGE_FIELDS:
                total[name] += getattr(row, name) or 0
        else:
            currencies = total.setdefault("currencies", set())
            currencies.add(row.currency)
            total["cost"] += row.cost
            total["currency"] = row.currency
    return totals


def _file_name(name: str) -> str:
    try:
        return text_field(name, max_length=255) or "upload"
    except UploadError:
        return "".join(c for c in str(name) if c.isprintable())[:255] or "upload"


@transaction.atomic
def provider_costs_import(*, provider: str, file_name: str, content, actor=None) -> ProviderCostImport:
    """Import one export file: the rows it can read replace what an earlier import wrote for
    the same provider, day and model (so importing a file twice changes nothing); the rows it
    cannot read are kept on the import with their line and field (the first 100, and the
    count of the rest). All or nothing: a failure part-way leaves no row written. Raises
    ``UnreadableFile`` for a file of another kind or with too many bad rows. ``content``: the
    file's bytes or the uploaded file (streamed)."""
    if provider not in Provider.values:
        raise ValueError(f"unknown provider {provider!r}")
    parsed = parse_export(provider=provider, file_name=file_name, content=content)
    errors = [error.as_dict() for error in parsed.errors]
    record = ProviderCostImport.objects.create(
        provider=provider, kind=parsed.kind, file_name=_file_name(file_name), uploaded_by=actor
    )
    models = _canonical_models(provider, parsed.rows)
    rows: list[ProviderCost] = []
    for (day, model), total in sorted(_totals(parsed, models).items()):
        if parsed.kind == OPENAI_USAGE:
            values = {name: int(total[name]) for name in USAGE_FIELDS} | {"usage_import": record}
        elif len(total["currencies"]) > 1:
            errors.append(
                {
                    "line": None,
                    "location": f"{day.isoformat()} {model}",
                    "field": "currency",
                    "message": _("More than one currency for one day and model."),
                }
            )
            continue
        else:
            values = {"cost": total["cost"], "currency": total["currency"], "cost_import": record}
        rows.append(ProviderCost(provider=provider, day=day, model=model, **values))
    # One upsert (INSERT … ON CONFLICT DO UPDATE): a concurrent import of the same day and
    # model waits on the row instead of failing, and only this file's columns are replaced.
    ProviderCost.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["provider", "day", "model"],
        update_fields=[*USAGE_FIELDS, "usage_import"]
        if parsed.kind == OPENAI_USAGE
        else ["cost", "currency", "cost_import"],
    )
    written = len(rows)
    record.row_count = written
    record.errors = errors[:MAX_LISTED_ERRORS]
    record.more_errors = parsed.more_errors + len(errors[MAX_LISTED_ERRORS:])
    record.save(update_fields=["row_count", "errors", "more_errors"])
    return record
