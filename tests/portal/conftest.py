"""Portal page tests: a signed-in Django test client per person, in either language."""

from __future__ import annotations

import pytest
from django.test import Client


def signed_in(user, language: str = "zh-hans", **client_options) -> Client:
    client = Client(**client_options)
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


@pytest.fixture
def alice_portal(alice):
    return signed_in(alice)


@pytest.fixture
def bob_portal(bob):
    return signed_in(bob)


@pytest.fixture
def charlie_portal(charlie):
    return signed_in(charlie)
