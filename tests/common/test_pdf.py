"""common.pdf.render_pdf: Chinese text that extracts back, one CJK font embedded (the
project's Noto Sans CJK SC, not a fontconfig fallback), page numbers, no network."""

from __future__ import annotations

import io
import logging
import socket
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from billing.pricing.money import rmb_figures, rmb_upper
from common import pdf

TEST_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
BUYER = "上海阿克米信息技术有限公司"
TOTAL = Decimal("12345.67")


@pytest.fixture(autouse=True)
def _test_templates(settings):
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [*engine["DIRS"], TEST_TEMPLATES]}]


def sample_context(*, lines: int = 0, emphasis: bool = False, image_urls=(), svg: str = "") -> dict:
    return {
        "number": "B-2025-10-0001",
        "seller": "北京示例科技有限公司",
        "buyer": BUYER,
        "lines": [
            {
                "project": f"智能客服{i:02d}",
                "model": "通义千问 qwen-max",
                "tokens": f"{1234567 * i:,}",
                "amount": "123.45",
            }
            for i in range(1, lines + 1)
        ],
        "emphasis": emphasis,
        "total_upper": rmb_upper(TOTAL),
        "total_figures": rmb_figures(TOTAL),
        "image_urls": list(image_urls),
        "svg": svg,
    }


def render(**kwargs) -> PdfReader:
    return PdfReader(io.BytesIO(pdf.render_pdf("pdf_test/sample.html", sample_context(**kwargs))))


def embedded_fonts(reader: PdfReader) -> dict[str, str]:
    """BaseFont → PostScript name of the embedded font program, over all pages."""
    fonts = {}
    for page in reader.pages:
        for ref in page["/Resources"].get("/Font", {}).values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0].get_object() if descendants else font)["/FontDescriptor"].get_object()
            program = next(descriptor[key] for key in ("/FontFile3", "/FontFile2", "/FontFile") if key in descriptor)
            ttfont = TTFont(io.BytesIO(program.get_object().get_data()))
            fonts[str(font["/BaseFont"])] = ttfont["name"].getDebugName(6)
    return fonts


def cjk_fonts(reader: PdfReader) -> dict[str, str]:
    return {base: name for base, name in embedded_fonts(reader).items() if "CJK" in name}


def test_the_chinese_text_extracts_back():
    reader = render(lines=3)

    text = reader.pages[0].extract_text()
    assert "公司名称" in text
    assert BUYER in text
    assert "壹万贰仟叁佰肆拾伍圆陆角柒分" in text
    assert "¥12,345.67" in text
    assert "智能客服03" in text
    assert reader.metadata.title == "对账单 B-2025-10-0001"


def test_exactly_one_cjk_font_is_embedded_the_projects_own():
    reader = render()

    fonts = cjk_fonts(reader)
    assert len(fonts) == 1, fonts
    (base_font, postscript_name), *_ = fonts.items()
    # The subset of the SC face from var/fonts/ (the Debian .ttc would give the JP face),
    # loaded through @font-face (a fontconfig fallback would be named Noto-Sans-CJK-SC).
    assert postscript_name == "NotoSansCJKsc-Regular"
    assert base_font.endswith("+NotoSansCJKsc-Procurement")
    # Header, footer and page numbers (margin boxes) use it too: nothing else is embedded.
    assert len(embedded_fonts(reader)) == 1


def test_bold_text_uses_the_bold_face_of_the_same_family():
    reader = render(lines=3, emphasis=True)

    assert sorted(cjk_fonts(reader).values()) == ["NotoSansCJKsc-Bold", "NotoSansCJKsc-Regular"]
    assert len(embedded_fonts(reader)) == 2


def test_inline_svg_text_uses_the_same_font_when_the_svg_names_it():
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="20" font-family="{pdf.PDF_FONT_FAMILY}">'
        '<text x="0" y="12" font-size="8">10月 1 6 11</text></svg>'
    )

    reader = render(svg=svg)

    assert list(embedded_fonts(reader).values()) == ["NotoSansCJKsc-Regular"]


def test_pages_are_numbered_with_header_and_footer_on_every_page():
    reader = render(lines=120)

    count = len(reader.pages)
    assert count >= 3
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"第 {number} 页 / 共 {count} 页" in text
        assert "北京示例科技有限公司 · 对账单 B-2025-10-0001" in text
        assert "本对账单由系统生成" in text
    assert len(cjk_fonts(reader)) == 2  # regular and bold (table headings), still one family


@pytest.fixture
def no_network(monkeypatch):
    """Records any attempt to resolve or connect (the fetcher's errors are swallowed by
    WeasyPrint, so raising here would not fail the test)."""
    attempts = []

    def record(name):
        def refuse(*args, **kwargs):
            attempts.append((name, args[:2]))
            raise OSError("network used while rendering a PDF")

        return refuse

    monkeypatch.setattr(socket, "create_connection", record("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", record("getaddrinfo"))
    monkeypatch.setattr(socket.socket, "connect", record("connect"))
    return attempts


@pytest.fixture
def fetchers(monkeypatch):
    created = []

    class SpyFetcher(pdf.LocalOnlyURLFetcher):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            created.append(self)

    monkeypatch.setattr(pdf, "LocalOnlyURLFetcher", SpyFetcher)
    return created


def test_remote_images_are_refused_without_touching_the_network(no_network, fetchers, caplog, monkeypatch):
    # A Celery worker started by an earlier integration test reconfigures logging; make sure
    # this module's logger reaches caplog whatever ran before.
    monkeypatch.setattr(pdf.logger, "disabled", False)
    monkeypatch.setattr(pdf.logger, "propagate", True)
    caplog.set_level(logging.WARNING, logger=pdf.logger.name)
    urls = ["http://example.com/x.png", "https://example.com/y.png", "//example.com/z.png", "ftp://example.com/w.png"]

    reader = render(image_urls=urls)

    assert BUYER in reader.pages[0].extract_text()  # rendered all the same
    assert no_network == []
    (fetcher,) = fetchers
    assert fetcher.refused == [*urls[:2], "file://example.com/z.png", urls[3]]
    assert "refused to fetch http://example.com/x.png" in caplog.text


def test_local_files_outside_the_allowed_folders_are_refused(fetchers, tmp_path, settings):
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"not an image")
    project_file = Path(settings.BASE_DIR) / "manage.py"

    render(image_urls=[outside.as_uri(), project_file.as_uri(), "../../etc/hostname"])

    (fetcher,) = fetchers
    assert len(fetcher.refused) == 3
    # The font itself was served (from var/fonts/), not refused.
    assert not any("var/fonts" in url for url in fetcher.refused)


def test_a_data_url_image_is_allowed(fetchers):
    pixel = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"

    render(image_urls=[pixel])

    assert fetchers[0].refused == []


def test_a_missing_font_file_is_a_configuration_error(settings, tmp_path):
    settings.BASE_DIR = tmp_path

    with pytest.raises(ImproperlyConfigured, match="make install"):
        pdf.render_pdf("pdf_test/sample.html", sample_context())
