"""Refuse, at the edge, what no view should ever see.

- Request bodies over their limit (BodyLimitMiddleware), from the ``Content-Length``
  header, before anything reads the body — see that class.
- Methods a page does not take (PageMethodsMiddleware): outside ``/api/`` only GET, HEAD
  and POST; PUT, PATCH, DELETE, OPTIONS … are answered 405 instead of running the view as GET.
- Control characters in a URL (RequestGuardMiddleware):

PostgreSQL text cannot hold NUL, so a NUL that reaches a query (``/bills/a%00b/``,
``?customer=%00``) would end as a database error and a 500. No object's number, code or
filter value contains a control character (U+0000–U+001F, U+007F), so such a request is
answered before any view runs: a path → 404 (there is no such object), a query parameter
→ 400 naming the parameter. API answers use the contract's error shape.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed, HttpResponseNotFound, JsonResponse
from django.utils.translation import gettext as _

from common.integers import whole_number_or_none

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if CONTROL.search(request.path):
            if _is_api(request):
                return JsonResponse({"detail": _("Not found."), "errors": {}}, status=404)
            return HttpResponseNotFound(_("Not found."))
        for name, values in request.GET.lists():
            if CONTROL.search(name) or any(CONTROL.search(value) for value in values):
                message = _("Remove the control character from this value.")
                if _is_api(request):
                    field = CONTROL.sub("", name) or "query"
                    return JsonResponse(
                        {
                            "detail": _("Invalid input in: %(fields)s.") % {"fields": field},
                            "errors": {field: [message]},
                        },
                        status=400,
                    )
                return HttpResponseBadRequest(message)
        return self.get_response(request)


PAGE_METHODS = ("GET", "HEAD", "POST")


class PageMethodsMiddleware:
    """Pages (everything outside ``/api/``: the admin, the staff and portal pages) take GET,
    HEAD and POST only; any other method is 405 with ``Allow``, before the view runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in PAGE_METHODS and not _is_api(request):
            return HttpResponseNotAllowed(PAGE_METHODS)
        return self.get_response(request)


def _content_length(request) -> int | None:
    """The Content-Length header (none: 0); None when it is not a whole number (``٣`` and
    ``-1`` included), which the views behind can then read with ``int()``."""
    return whole_number_or_none(request.META.get("CONTENT_LENGTH") or "0", maximum=2**63 - 1)


def _is_staff(request) -> bool:
    """A signed-in staff member: by session, or (under /api/) by an API token of one."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.is_staff
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if _is_api(request) and header.startswith("Token "):
        from rest_framework.exceptions import AuthenticationFailed

        from customers.authentication import token_authenticate

        try:
            return token_authenticate(header[len("Token ") :].strip()).user.is_staff
        except AuthenticationFailed:
            return False
    return False


class BodyLimitMiddleware:
    """Request bodies bounded before they are read (CONTRACT "One figure, limits and exports").

    The ``Content-Length`` is checked before any middleware or view reads the body (CSRF
    reads a form body only later, in ``process_view``): the gateway's usage batch up to
    10 MB (its own 10,000-record limit is checked by the view), an upload
    (``multipart/form-data``) from signed-in staff up to UPLOAD_BODY_MAX_BYTES (20 MB),
    anything else — JSON, a form, and every body of a visitor who is not staff — up to
    REQUEST_BODY_MAX_BYTES (1 MB). Over it: 413, in the contract's JSON error shape under
    ``/api/``. A body without a ``Content-Length`` (chunked) is never read by Django. With
    FILE_UPLOAD_MAX_MEMORY_SIZE at the upload limit an accepted upload is held in memory,
    so nothing a client sends is ever written to a temporary file.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def limit(self, request) -> tuple[int, str]:
        from billing.metering.ingest import MAX_BODY_BYTES

        if request.path == USAGE_PATH:
            return MAX_BODY_BYTES, _("The batch is larger than 10 MB; send fewer records per request.")
        upload = request.META.get("CONTENT_TYPE", "").lower().startswith("multipart/form-data")
        if upload and _is_staff(request):
            limit = settings.UPLOAD_BODY_MAX_BYTES
            return limit, _("The upload is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)}
        limit = settings.REQUEST_BODY_MAX_BYTES
        return limit, _("The request body is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)}

    def __call__(self, request):
        length = _content_length(request)
        if length is None:
            return self.refuse(request, _("The Content-Length header is not a number."), status=400)
        if length:
            limit, message = self.limit(request)
            if length > limit:
                return self.refuse(request, message, status=413)
        return self.get_response(request)

    @staticmethod
    def refuse(request, message: str, *, status: int) -> HttpResponse:
        if _is_api(request):
            return JsonResponse({"detail": message, "errors": {}}, status=status)
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


USAGE_PATH = "/api/v1/usage-records/"
