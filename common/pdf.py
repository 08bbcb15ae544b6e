"""The one way to make a PDF: ``render_pdf(template_name, context) -> bytes``.

A Django template (extending ``pdf/base.html``) rendered to HTML, laid out by WeasyPrint
with the project's CJK font (Noto Sans CJK SC from var/fonts/, see base.html and
scripts/extract_cjk_fonts.py). Rendering never touches the network: the URL fetcher
serves ``data:`` URLs and files under static/, var/fonts/ and MEDIA_ROOT and refuses the
rest, which WeasyPrint logs and skips (an <img> from elsewhere is left out; the PDF is made).

Speed (bench/close.py: a 30-line, 2-page bill with its chart, this machine): ~0.35 s,
from the database to the stored file. What matters: libharfbuzz-subset0 (without
it WeasyPrint subsets the 16 MB font with fontTools: ~7.5 s), one font family (a second
CJK font costs ~0.1 s), and reusing the FontConfiguration: a fresh one copies the font
files into a temporary directory and has fontconfig scan them on every render (~0.1 s).
Each thread keeps its own, since WeasyPrint does not say it is thread-safe. And the
cyclic garbage collector, paused during the render: WeasyPrint builds hundreds of
thousands of short-lived objects, which otherwise set off repeated full collections over
the whole Django heap (~25 % of a render); one young-generation collection afterwards
frees the render's cycles (0.45 → 0.35 s).
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string
from weasyprint import HTML, URLFetcher
from weasyprint.text.fonts import FontConfiguration

logger = logging.getLogger(__name__)

# Relative to the project directory; the same paths and family are in templates/pdf/base.html.
PDF_FONT_FILES = ("var/fonts/NotoSansCJKsc-Regular.otf", "var/fonts/NotoSansCJKsc-Bold.otf")
# For what does not inherit the page's font, such as text in inline SVG charts
# (<svg font-family="…">). Embedded fonts are named ABCDEF+NotoSansCJKsc-Procurement(-Bold).
PDF_FONT_FAMILY = "NotoSansCJKsc Procurement"

_thread_state = threading.local()


class PdfFetchRefused(ValueError):
    """A URL that a PDF may not load (network, or a file outside the allowed roots)."""


class LocalOnlyURLFetcher(URLFetcher):
    """Serves ``data:`` URLs and ``file:`` URLs under ``allowed_roots``; refuses the rest
    before any connection is opened. WeasyPrint catches the refusal and goes on without
    the resource; ``refused`` keeps the URLs for the caller."""

    def __init__(self, allowed_roots: list[Path]):
        super().__init__(timeout=1, allow_redirects=False)
        self.allowed_roots = [Path(root).resolve() for root in allowed_roots]
        self.refused: list[str] = []

    def _allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return True
        if scheme != "file" or parts.netloc not in ("", "localhost"):
            return False
        path = Path(url2pathname(parts.path)).resolve()
        return any(path.is_relative_to(root) for root in self.allowed_roots)

    def fetch(self, url, headers=None):
        if not self._allowed(url):
            self.refused.append(url)
            logger.warning("PDF rendering refused to fetch %s", url[:200])
            raise PdfFetchRefused(f"not fetched while rendering a PDF: {url[:200]}")
        return super().fetch(url, headers)


def _font_config() -> FontConfiguration:
    """This thread's FontConfiguration: the @font-face files are loaded on the first render
    only (WeasyPrint keys them by their descriptors, so later renders skip the copy)."""
    state = _thread_state
    if getattr(state, "pid", None) != os.getpid():
        inherited = getattr(state, "font_config", None)
        if inherited is not None:
            # Forked after the parent rendered: the temporary font copies are the parent's,
            # and FontConfiguration.__del__ would delete them.
            inherited._folder = None
        state.font_config, state.pid = FontConfiguration(), os.getpid()
    return state.font_config


def _check_fonts(base_dir: Path) -> None:
    missing = [name for name in PDF_FONT_FILES if not (base_dir / name).is_file()]
    if missing:
        # Without the file WeasyPrint would fall back to whatever fontconfig finds.
        raise ImproperlyConfigured(
            f"PDF font missing: {', '.join(missing)}. Run `make install` "
            "(scripts/extract_cjk_fonts.py extracts it from Debian's fonts-noto-cjk)."
        )


@contextmanager
def _gc_paused():
    """Pause automatic garbage collection (process-wide, for the length of one render), then
    collect the young generation: the render's own cyclic garbage, not the whole heap. A
    render in another thread meanwhile finds it paused and leaves it to the first."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
            gc.collect(0)


def render_pdf(template_name: str, context: dict) -> bytes:
    """Render ``template_name`` (a template extending ``pdf/base.html``) with ``context``
    and return the PDF. Relative URLs in the template resolve against the project
    directory; nothing is fetched from the network."""
    base_dir = Path(settings.BASE_DIR)
    _check_fonts(base_dir)
    html = render_to_string(template_name, context)
    fetcher = LocalOnlyURLFetcher(
        allowed_roots=[base_dir / "static", base_dir / "var" / "fonts", Path(settings.MEDIA_ROOT)]
    )
    with _gc_paused():
        document = HTML(string=html, base_url=base_dir.as_uri() + "/", url_fetcher=fetcher)
        return document.write_pdf(font_config=_font_config())
