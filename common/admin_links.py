"""The admin's "open / download" links to a document's file, served by procurement/documents.py
(signed in, the API's access rules), never by a /media/ URL."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import pgettext


def document_links(url_name: str, number: str | None) -> SafeString | str:
    """Links to open (in a new tab) and download the document ``number``; "—" when it has
    no number, so no file (a draft bill, a pending invoice)."""
    if not number:
        return "—"
    url = reverse(url_name, args=[number])
    return format_html(
        '<a href="{}" target="_blank" rel="noopener">{}</a> / <a href="{}?download=1">{}</a>',
        url,
        pgettext("document link", "open"),
        url,
        pgettext("document link", "download"),
    )
