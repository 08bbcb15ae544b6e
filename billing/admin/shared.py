"""What several billing admins share: the month filter, read-only locked rows, the document inline."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from billing.periods import format_period


class PeriodFilter(admin.SimpleListFilter):
    """Billing periods as months (YYYY-MM), newest first — not Django's day-based date filter."""

    title = _("period")
    parameter_name = "period"

    def lookups(self, request, model_admin):
        periods = model_admin.get_queryset(request).order_by("-period").values_list("period", flat=True).distinct()
        return [(p.isoformat(), format_period(p)) for p in periods[:36]]

    def queryset(self, request, queryset):
        return queryset.filter(period=self.value()) if self.value() else queryset


class LockedReadOnlyMixin:
    """Versions/rates used by an issued bill are shown read-only and cannot be deleted."""

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.locked_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.locked_at is not None:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        locked = queryset.filter(locked_at__isnull=False).count()
        if locked:
            self.message_user(
                request, _("%(n)d locked rows were kept: issued bills use them.") % {"n": locked}, messages.WARNING
            )
        super().delete_queryset(request, queryset.filter(locked_at__isnull=True))


DOCUMENT_INLINE = "admin/edit_inline/tabular_document.html"
