"""Reading the staff pages in tests: the HTML parsed with tinyhtml5 (already installed for
WeasyPrint) into ElementTree, and a few finders by id, class and attribute."""

from __future__ import annotations

import re
from decimal import Decimal
from xml.etree.ElementTree import Element

import tinyhtml5


def parse(response) -> Element:
    return tinyhtml5.parse(response.content.decode(), namespace_html_elements=False)


def text(element: Element | None) -> str:
    assert element is not None
    return "".join(element.itertext()).strip()


def by_id(root: Element, name: str) -> Element | None:
    return root.find(f".//*[@id='{name}']")


def by_class(root: Element, name: str) -> list[Element]:
    return [e for e in root.iter() if name in (e.get("class") or "").split()]


def one_by_class(root: Element, name: str) -> Element:
    (found,) = by_class(root, name)
    return found


def rows(root: Element, section: str, attribute: str) -> list[Element]:
    """The body rows of the table in ``#section`` that carry ``attribute``."""
    container = by_id(root, section)
    assert container is not None, section
    return [tr for tr in container.iter("tr") if tr.get(attribute) is not None]


def money(value: str) -> Decimal | None:
    value = value.strip()
    if value == "—":
        return None
    return Decimal(re.sub(r"[¥,]", "", value.split()[0]))
