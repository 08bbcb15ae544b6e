"""The API's permission classes (DRF), over the rules of ``customers.access``."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from customers.access import is_finance, is_gateway, is_presales, portal_membership


class IsFinance(BasePermission):
    def has_permission(self, request, view) -> bool:
        return is_finance(request.user)


class IsFinanceOrPresalesReading(BasePermission):
    """The price book and the exchange rates: finance reads and writes; presales engineers
    read them (their estimates are priced from them)."""

    def has_permission(self, request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return is_finance(request.user) or is_presales(request.user)
        return is_finance(request.user)


class IsGateway(BasePermission):
    def has_permission(self, request, view) -> bool:
        return is_gateway(request.user)


class IsFinanceOrPortal(BasePermission):
    """Finance, or any portal user (object scoping then happens in the view)."""

    def has_permission(self, request, view) -> bool:
        return is_finance(request.user) or portal_membership(request.user) is not None
