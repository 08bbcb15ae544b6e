"""Answering with a stored document (a bill's or an invoice's file) to a signed-in user:
the admin's "open / download" links and the customer portal share these. A role's refusal
(``common.errors.NotAllowed``) is Django's ``PermissionDenied``: the page answers 403 by itself."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header


def wants_download(request: HttpRequest) -> bool:
    """``?download=1`` asks for an attachment; the default is to open it in the browser."""
    return request.GET.get("download", "").lower() in ("1", "true", "yes")


def file_response(content: bytes, *, filename: str, download: bool, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(download, filename)
    # A customer's document: never kept by a shared cache.
    patch_cache_control(response, private=True, no_store=True)
    return response


def pdf_response(content: bytes, *, filename: str, download: bool = False) -> HttpResponse:
    return file_response(content, filename=filename, download=download, content_type="application/pdf")
