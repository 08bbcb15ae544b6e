"""Every file the app answers with — a bill's, a notice's, a statement's, an invoice's or a
proposal's PDF, a CSV or XLSX export, streamed or not — goes out through :func:`file_response`:

- ``Content-Disposition`` from Django's ``content_disposition_header``: ``inline`` or
  ``attachment``, and a filename that is safe whatever it holds (a Chinese name, a quote:
  RFC 6266 ``filename*=utf-8''…``);
- ``Cache-Control: private, no-store``: every document and export is one account's, and no
  shared cache or browser history may keep it (the same on every route: API, portal,
  staff pages, admin).

``pdf_response`` opens in the browser unless asked (``?download=1``, :func:`wants_download`);
exports are attachments (common.exports builds CSV/XLSX content and answers through here).
tests/common/test_downloads.py sweeps every download route for these headers. A role's
refusal (``common.errors.NotAllowed``) is Django's ``PermissionDenied``: a page answers 403
by itself."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header


def wants_download(request: HttpRequest) -> bool:
    """``?download=1`` asks for an attachment; the default is to open it in the browser."""
    return request.GET.get("download", "").lower() in ("1", "true", "yes")


PDF_CONTENT_TYPE = "application/pdf"


def file_response(
    content: bytes | str | Iterable[bytes | str],
    *,
    filename: str,
    content_type: str,
    download: bool = True,
) -> HttpResponse | StreamingHttpResponse:
    """A file to a signed-in user: ``content`` as bytes or text, or an iterable of chunks
    (streamed, for a large export: nothing held in memory); ``download`` False opens it in
    the browser."""
    if isinstance(content, (bytes, str)):
        response = HttpResponse(content, content_type=content_type)
    else:
        response = StreamingHttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(download, filename)
    patch_cache_control(response, private=True, no_store=True)
    return response


def pdf_response(content: bytes, *, filename: str, download: bool = False) -> HttpResponse:
    """A PDF, opened in the browser unless ``download``."""
    return file_response(content, filename=filename, download=download, content_type=PDF_CONTENT_TYPE)
