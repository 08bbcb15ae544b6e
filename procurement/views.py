from __future__ import annotations

from pathlib import Path

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.defaults import bad_request, page_not_found, permission_denied, server_error

from common.integers import BadParameter


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
    """The site's front page ("view site" in the admin): each user's own pages."""
    return redirect(front_page(request.user) or "admin:index")


def front_page(user) -> str | None:
    """Where a signed-in user works outside the admin: finance staff the workspace
    (/staff/), presales staff their pages, portal users the portal; None for others."""
    from customers.access import is_finance, is_presales, portal_membership

    if not user.is_authenticated:
        return None
    if is_finance(user):
        return reverse("workspace:dashboard")
    if is_presales(user):
        return reverse("presales:intake")
    if portal_membership(user) is not None:
        return reverse("portal:home")
    return None


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """No route matches (``handler404``), e.g. ``/api/v1/customers/ACME/invoice-titles/abc/``
    where the id must be a number: an API client reads every answer as JSON in the
    contract's error shape; elsewhere Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found."), "errors": {}}, status=404)
    return page_not_found(request, exception)


def bad_parameter(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A request Django refuses as bad (``handler400``): a parameter that is not what the page
    takes (``common.integers.BadParameter``) is named with the reason, under /api/ in the
    contract's error shape; anything else, Django's page."""
    if not isinstance(exception, BadParameter):
        return bad_request(request, exception)
    if request.path.startswith("/api/"):
        body = {
            "detail": _("Invalid input in: %(fields)s.") % {"fields": exception.name},
            "errors": {exception.name: [exception.message]},
        }
        return JsonResponse(body, status=400)
    text = escape(f"{exception.name}: {exception.message}")
    return HttpResponse(f'<!DOCTYPE html><title>400</title><p id="bad-parameter">{text}</p>', status=400)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A refusal raised inside a page (``handler403``): under /staff/ or /portal/ the 403 page
    of that shell, in the reader's language, with the refusal's own words when it has
    some; elsewhere Django's page (templates/403.html)."""
    from common.shells import forbidden_for_path

    message = str(exception) if exception is not None and str(exception) else None
    return forbidden_for_path(request, message) or permission_denied(request, exception)


def server_failed(request: HttpRequest) -> HttpResponse:
    """An unexpected error outside an API view's own handling (``handler500``, used when
    DEBUG is off, as in production): under /api/ still the JSON error shape, never HTML."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": _("Internal error; nothing was saved. It has been logged."), "errors": {}}, status=500
        )
    return server_error(request)


FAVICON = Path(__file__).resolve().parent / "static" / "favicon.ico"


def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``, which browsers ask for on every page (a bar chart on blue)."""
    response = HttpResponse(FAVICON.read_bytes(), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response
