"""The admin speaks Simplified Chinese by default and English when asked; the catalogue is complete."""

from __future__ import annotations

import ast
import re

import pytest
from django.conf import settings
from django.utils import translation

from procurement.settings import BASE_DIR

pytestmark = pytest.mark.django_db

PO = BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_it_renders_the_admin_in_chinese_by_default(admin_client):
    page = admin_client.get("/admin/").content.decode()

    assert '<html lang="zh-hans"' in page
    for name in ("客户", "合同", "项目", "API 密钥", "门户用户", "API 令牌"):
        assert name in page, name
    assert "Portal users" not in page


def test_it_switches_the_admin_to_english_and_back_with_set_language(admin_client):
    switched = admin_client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})

    assert switched.status_code == 302
    assert switched["Location"] == "/admin/"
    english = admin_client.get("/admin/").content.decode()
    assert '<html lang="en"' in english
    for name in ("Customers", "Contracts", "Projects", "API keys", "Portal users", "API tokens"):
        assert name in english, name
    assert "门户用户" not in english

    admin_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/admin/"})
    assert "门户用户" in admin_client.get("/admin/").content.decode()


def test_it_shows_the_login_page_in_chinese_to_a_visitor(client):
    page = client.get("/admin/login/").content.decode()

    assert "用户名" in page
    assert "密码" in page
    assert "Username" not in page


def catalogue_entries() -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) for every entry of the .po, header excluded."""
    entries, fuzzy, current, field = [], False, {}, None
    for line in [*PO.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith(("msgid ", "msgstr ")):
            field, _space, rest = line.partition(" ")
            current[field] = ast.literal_eval(rest)
        elif line.startswith('"') and field:
            current[field] += ast.literal_eval(line)
        elif not line.strip() and current:
            if current.get("msgid"):
                entries.append((current["msgid"], current.get("msgstr", ""), fuzzy))
            fuzzy, current, field = False, {}, None
    return entries


def test_it_translates_every_message_of_the_catalogue():
    entries = catalogue_entries()

    assert len(entries) > 100
    assert [msgid for msgid, msgstr, _fuzzy in entries if not msgstr] == []
    assert [msgid for msgid, _msgstr, fuzzy in entries if fuzzy] == []
    assert "#, fuzzy" not in PO.read_text(encoding="utf-8")
    for msgid, msgstr, _fuzzy in entries:
        # Placeholders survive translation exactly.
        assert sorted(re.findall(r"%\(\w+\)[sd]|\{\}", msgid)) == sorted(re.findall(r"%\(\w+\)[sd]|\{\}", msgstr)), (
            msgid
        )


def test_it_ships_a_compiled_catalogue_for_the_default_language():
    assert PO.with_suffix(".mo").exists()
    with translation.override(settings.LANGUAGE_CODE):
        assert translation.gettext("minimum monthly commitment") == "最低月消费承诺"
        assert translation.gettext("payment terms (days)") == "账期（天）"


@pytest.mark.parametrize(
    ("accept_language", "shown"),
    [
        ("", "zh-hans"),  # nothing asked: Chinese
        ("en-US,en;q=0.9", "en"),  # an English browser gets English
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-hans"),
        ("fr-FR,fr;q=0.9,de;q=0.8", "zh-hans"),  # nothing we speak: Chinese
        ("fr-FR,en;q=0.5", "en"),  # English further down the list
    ],
)
def test_it_follows_the_browsers_language_and_falls_back_to_chinese(client, accept_language, shown):
    """What README.md says: the UI follows the browser's Accept-Language, zh-hans when
    nothing matches; the header's switcher (a cookie) overrides both."""
    headers = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}
    response = client.get("/portal/login/", **headers)
    assert response["Content-Language"] == shown
    client.cookies["django_language"] = "zh-hans"
    assert client.get("/portal/login/", **headers)["Content-Language"] == "zh-hans"
