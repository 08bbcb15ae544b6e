from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found, server_error


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness and readiness in one: 200 when the database answers, 503 when not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any database failure means "not ready"
        return JsonResponse({"status": "error", "database": str(exc)[:200]}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def home(request: HttpRequest) -> HttpResponse:
    return redirect("admin:index")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """No route matches (``handler404``), e.g. ``/api/v1/customers/ACME/invoice-titles/abc/``
    where the id must be a number: an API client reads every answer as JSON in the
    contract's error shape; elsewhere Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found."), "errors": {}}, status=404)
    return page_not_found(request, exception)


def server_failed(request: HttpRequest) -> HttpResponse:
    """An unexpected error outside an API view's own handling (``handler500``, used when
    DEBUG is off, as in production): under /api/ still the JSON error shape, never HTML."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": _("Internal error; nothing was saved. It has been logged."), "errors": {}}, status=500
        )
    return server_error(request)
