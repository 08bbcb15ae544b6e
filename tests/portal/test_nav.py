"""The portal's navigation: every section's page exists, each role sees its sections, and a
section whose URL name does not resolve is an error (it used to be left out silently, a
guard from when the pages were built in parallel branches)."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch

from customers.models import PortalUser
from portal import nav


class Member:
    def __init__(self, role: str):
        self.role = role


@pytest.mark.parametrize("role", PortalUser.Role.values)
def test_each_role_sees_every_section_it_may_open(role):
    shown = nav.sections_for(Member(role))

    assert [s["url_name"] for s in shown] == [s.url_name for s in nav.SECTIONS if role in s.roles]
    assert all(s["url"].startswith("/portal/") for s in shown)


def test_the_admin_sees_all_ten_sections_and_a_developer_no_money():
    admin = [s["url_name"] for s in nav.sections_for(Member(PortalUser.Role.ADMIN))]
    developer = [s["url_name"] for s in nav.sections_for(Member(PortalUser.Role.DEVELOPER))]

    assert len(admin) == len(nav.SECTIONS) == 10
    assert "portal:bills" not in developer and "portal:users" not in developer
    assert "portal:usage" in developer


def test_a_section_whose_page_does_not_exist_is_an_error(monkeypatch):
    missing = nav.Section("portal:no-such-page", "x", frozenset(PortalUser.Role.values))
    monkeypatch.setattr(nav, "SECTIONS", (*nav.SECTIONS, missing))

    with pytest.raises(NoReverseMatch):
        nav.sections_for(Member(PortalUser.Role.ADMIN))
