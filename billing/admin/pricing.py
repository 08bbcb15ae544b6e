"""Admin: price versions, model aliases and exchange rates."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from billing.admin.pricerows import PRICE_COLUMNS, VARIANT_COLUMNS, WINDOW_COLUMNS, PriceRowsField, table
from billing.admin.shared import LockedReadOnlyMixin
from billing.models import (
    DefaultProvider,
    ExchangeRate,
    ModelAlias,
    PriceVersion,
)
from billing.models.pricing import SHORTHAND_KEYS
from billing.periods import FIRST_PERIOD, LAST_PERIOD, PERIOD_RANGE_ERROR, format_period
from billing.pricing import pricemaps, services
from billing.pricing.cost import variant_name
from billing.pricing.pricebook_file import (
    MAX_BYTES,
    PriceBookFileError,
    price_book_file_import,
    price_book_template_rows,
)
from billing.pricing.pricerows import map_rows, rows_map, rows_variants, rows_windows, variant_rows, window_rows
from common.admin_export import export_as_csv, export_as_xlsx
from common.errors import Conflict
from common.exports import csv_response


class PriceVersionForm(forms.ModelForm):
    """A version's prices as rows (``pricerows``); the three shorthand fields, when changed,
    are written over their keys (a tiered key's base)."""

    price_rows = PriceRowsField(
        PRICE_COLUMNS,
        label=_("prices"),
        help_text=_(
            "One row per price key (genai-prices' names: input_mtok, cache_write_1h_mtok, web_searches_kcount, …). "
            "A long-context tier is one more row of the same key with the input tokens it starts above."
        ),
    )
    variant_rows = PriceRowsField(
        VARIANT_COLUMNS,
        label=_("variants"),
        help_text=_(
            "Prices for Batch (processing = batch) or a service tier (flex, priority, …), key by key; "
            "keys not listed keep the prices above. A row without a key names a tier priced as standard."
        ),
    )
    window_rows = PriceRowsField(
        WINDOW_COLUMNS,
        label=_("time-of-day windows"),
        help_text=_(
            "Prices over the keys above from a time (inclusive) to a time (exclusive) in the billing time zone; "
            "may cross midnight; weekdays are the days the window starts on."
        ),
    )

    class Meta:
        model = PriceVersion
        fields = [
            "provider",
            "model",
            "effective_from",
            "currency",
            "input_per_mtok",
            "cached_input_per_mtok",
            "output_per_mtok",
            "note",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        version = self.instance
        if version.pk:
            self.fields["price_rows"].initial = map_rows(version.price_map())
            self.fields["variant_rows"].initial = variant_rows(version.variants or [])
            self.fields["window_rows"].initial = window_rows(version.windows or [])
        self.price_maps: tuple[dict, list, list] | None = None

    def clean(self):
        cleaned = super().clean()
        version = self.instance
        errors: list[str] = []
        rows = cleaned.get("price_rows")
        prices = (
            rows_map(rows, "prices", errors) if rows is not None else dict(version.price_map() if version.pk else {})
        )
        rows = cleaned.get("variant_rows")
        variants = rows_variants(rows, errors) if rows is not None else list(version.variants or [])
        rows = cleaned.get("window_rows")
        windows = rows_windows(rows, errors) if rows is not None else list(version.windows or [])
        for field, key in SHORTHAND_KEYS.items():
            if field in self.changed_data:
                value = cleaned.get(field)
                if value is None:
                    prices.pop(key, None)
                elif isinstance(prices.get(key), dict):
                    prices[key] = {**prices[key], "base": f"{value.normalize():f}"}
                else:
                    prices[key] = f"{value.normalize():f}"
        for message in errors:
            self.add_error(_ROW_FIELDS[message.split(".")[0].split(":")[0].split("[")[0]], message)
        if errors:
            return cleaned
        try:
            self.price_maps = pricemaps.price_maps_clean(prices, variants, windows)
        except ValidationError as exc:
            for path, messages_ in exc.message_dict.items():
                self.add_error(_ROW_FIELDS[path.split(".")[0].split("[")[0]], [f"{path}: {m}" for m in messages_])
        return cleaned


_ROW_FIELDS = {"prices": "price_rows", "variants": "variant_rows", "windows": "window_rows"}
EDIT_FIELDS = [
    "provider",
    "model",
    "effective_from",
    "currency",
    "input_per_mtok",
    "cached_input_per_mtok",
    "output_per_mtok",
    "price_rows",
    "variant_rows",
    "window_rows",
    "note",
    "source",
    "locked_at",
    "created_at",
    "created_by",
]
VIEW_FIELDS = [
    "provider",
    "model",
    "effective_from",
    "currency",
    "input_per_mtok",
    "cached_input_per_mtok",
    "output_per_mtok",
    "prices_table",
    "variants_table",
    "windows_table",
    "note",
    "source",
    "locked_at",
    "created_at",
    "created_by",
]


@admin.register(PriceVersion)
class PriceVersionAdmin(LockedReadOnlyMixin, admin.ModelAdmin):
    form = PriceVersionForm
    list_display = [
        "provider",
        "model",
        "effective_from",
        "currency",
        "input_per_mtok",
        "cached_input_per_mtok",
        "output_per_mtok",
        "dimensions",
        "source",
        "locked",
    ]
    actions = [export_as_csv, export_as_xlsx]
    list_filter = ["provider", "currency", "source", ("locked_at", admin.EmptyFieldListFilter)]
    search_fields = ["provider", "model", "note"]
    date_hierarchy = "effective_from"
    readonly_fields = [
        "source",
        "locked_at",
        "created_at",
        "created_by",
        "prices_table",
        "variants_table",
        "windows_table",
    ]

    def get_urls(self):
        from django.urls import path

        view = self.admin_site.admin_view(self.import_file_view)
        return [path("import-file/", view, name="billing_priceversion_import_file"), *super().get_urls()]

    def import_file_view(self, request):
        """Finance uploads a provider's price list (CSV/XLSX) as price versions, all or nothing."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.GET.get("template"):
            header, *rows = price_book_template_rows()
            return csv_response(header=header, rows=rows, filename="price-book-example.csv")
        form = PriceBookFileForm(request.POST or None, request.FILES or None)
        file_errors: list[str] = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = price_book_file_import(file_name=upload.name, content=upload.read(), by=request.user)
            except PriceBookFileError as exc:
                file_errors = exc.messages
            else:
                self.message_user(
                    request,
                    _("Price book imported: %(created)d versions added, %(updated)d replaced.")
                    % {"created": report.created, "updated": report.updated},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:billing_priceversion_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import a price-book file"),
            "form": form,
            "file_errors": file_errors,
        }
        return TemplateResponse(request, "admin/billing/priceversion/import_file.html", context)

    def get_fields(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return VIEW_FIELDS
        return EDIT_FIELDS

    @admin.display(boolean=True, description=_("locked"))
    def locked(self, obj: PriceVersion) -> bool:
        return obj.locked_at is not None

    def get_changeform_initial_data(self, request):
        """The link from a held draft fills in the effective time (ISO 8601) of the earliest
        unpriced call; the date and time inputs need it as a datetime."""
        initial = super().get_changeform_initial_data(request)
        value = initial.get("effective_from")
        if isinstance(value, str):
            parsed = parse_datetime(value.replace(" ", "+"))  # a "+" left unescaped in a query
            if parsed is None:
                del initial["effective_from"]
            else:
                initial["effective_from"] = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
        return initial

    @admin.display(description=_("other prices"))
    def dimensions(self, obj: PriceVersion) -> str:
        keys = [k for k in obj.price_map() if k not in ("input_mtok", "cache_read_mtok", "output_mtok")]
        extra = [*keys, *(f"+{variant_name_of(v)}" for v in obj.variants or [])]
        if obj.windows:
            extra.append(_("%(n)d windows") % {"n": len(obj.windows)})
        return ", ".join(extra) or "—"

    @admin.display(description=_("prices"))
    def prices_table(self, obj: PriceVersion) -> str:
        return table(PRICE_COLUMNS, map_rows(obj.price_map()))

    @admin.display(description=_("variants"))
    def variants_table(self, obj: PriceVersion) -> str:
        return table(VARIANT_COLUMNS, variant_rows(obj.variants or []))

    @admin.display(description=_("time-of-day windows"))
    def windows_table(self, obj: PriceVersion) -> str:
        return table(WINDOW_COLUMNS, window_rows(obj.windows or []))

    def save_model(self, request, obj, form, change):
        prices, variants, windows = form.price_maps
        try:
            version, _created = services.price_version_set(
                provider=obj.provider,
                model=obj.model,
                effective_from=obj.effective_from,
                currency=obj.currency,
                prices=prices,
                variants=variants,
                windows=windows,
                source=PriceVersion.Source.ADMIN,
                note=obj.note,
                by=request.user,
            )
        except (ValidationError, Conflict) as exc:
            self.message_user(request, str(getattr(exc, "detail", exc)), messages.ERROR)
            return
        obj.pk = version.pk


class PriceBookFileForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"), help_text=_("At most 2 MB and 5,000 rows."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(_("Larger than 2 MB; split the list."))
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise ValidationError(_("A .csv or .xlsx file."))
        return upload


def variant_name_of(variant: dict) -> str:
    when = variant["when"]
    return variant_name(when.get("processing", "standard"), when.get("service_tier", "default"))


@admin.register(ModelAlias)
class ModelAliasAdmin(admin.ModelAdmin):
    list_display = ["provider", "alias", "model"]
    list_filter = ["provider"]
    search_fields = ["alias", "model"]


@admin.register(DefaultProvider)
class DefaultProviderAdmin(admin.ModelAdmin):
    """Which provider bills a record without ``provider`` whose model several providers sell."""

    list_display = ["model", "provider"]
    search_fields = ["model", "provider"]


class ExchangeRateForm(forms.ModelForm):
    class Meta:
        model = ExchangeRate
        fields = ["currency", "period", "rate"]

    def clean_period(self):
        period = self.cleaned_data["period"].replace(day=1)
        if not FIRST_PERIOD <= period <= LAST_PERIOD:
            raise ValidationError(PERIOD_RANGE_ERROR)
        return period


@admin.register(ExchangeRate)
class ExchangeRateAdmin(LockedReadOnlyMixin, admin.ModelAdmin):
    form = ExchangeRateForm
    list_display = ["currency", "period_label", "rate", "updated_at", "updated_by", "locked"]
    actions = [export_as_csv, export_as_xlsx]
    list_filter = ["currency", ("locked_at", admin.EmptyFieldListFilter)]
    date_hierarchy = "period"

    @admin.display(description=_("period"), ordering="period")
    def period_label(self, obj: ExchangeRate) -> str:
        return format_period(obj.period)

    @admin.display(boolean=True, description=_("locked"))
    def locked(self, obj: ExchangeRate) -> bool:
        return obj.locked_at is not None

    def save_model(self, request, obj, form, change):
        try:
            rate, _created = services.exchange_rate_set(
                currency=obj.currency, period=obj.period, rate=obj.rate, by=request.user
            )
        except (ValidationError, Conflict) as exc:
            self.message_user(request, str(getattr(exc, "detail", exc)), messages.ERROR)
            return
        obj.pk = rate.pk
