"""Production-safe defaults: `check --deploy` is clean with production settings, and a page and
an API answer carry the security headers (HSTS, CSP, frame, referrer, secure cookies)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

# What a server gets with production settings, read by a child process (these settings are
# decided at import, so the test process itself cannot switch to them).
PROBE = r"""
import json, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="billing.example.com")
answers = {}
for name, path, proto in [("page", "/portal/login/", "https"), ("api", "/api/v1/bills/", "https"),
                          ("plain_page", "/portal/login/", "http"), ("direct", "/portal/login/", None),
                          ("docs", "/api/docs/", "https")]:
    extra = {"HTTP_X_FORWARDED_PROTO": proto} if proto else {}
    response = client.get(path, **extra)
    cookies = {k: {"secure": bool(v["secure"]), "httponly": bool(v["httponly"]), "samesite": v["samesite"]}
               for k, v in response.cookies.items()}
    answers[name] = {"status": response.status_code, "headers": dict(response.headers), "cookies": cookies}
# A form POST with its CSRF token: straight to the app server (plain HTTP, an http Referer)
# and through the proxy (https).
import re
strict = Client(HTTP_HOST="billing.example.com", enforce_csrf_checks=True)
token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', strict.get("/portal/login/").content.decode())[1]
for name, proto in [("direct_post", None), ("proxied_post", "https")]:
    extra = {"HTTP_X_FORWARDED_PROTO": proto} if proto else {}
    response = strict.post("/portal/login/", {"username": "nobody", "password": "wrong", "csrfmiddlewaretoken": token},
                           HTTP_REFERER=f"{proto or 'http'}://billing.example.com/portal/login/", **extra)
    answers[name] = {"status": response.status_code, "headers": dict(response.headers), "cookies": {},
                     "body": response.content.decode()[:2000]}
print(json.dumps(answers))
"""


def production_env(db_name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PROCUREMENT_ENV", "DJANGO_DEBUG"}}
    env.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{db_name}",
        SECRET_KEY=secrets.token_urlsafe(60),
        DJANGO_DEBUG="0",
        ALLOWED_HOSTS="billing.example.com",
        DJANGO_SETTINGS_MODULE="procurement.settings",
    )
    return env


@pytest.fixture(scope="module")
def env(django_db_setup):
    """After the test database is made: the probe signs in against it (django-axes)."""
    return production_env(settings.DATABASES["default"]["NAME"])


def test_check_deploy_is_clean(env):
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


@pytest.mark.django_db(transaction=True)
def test_page_and_api_answer_carry_the_security_headers(env):
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout.strip().splitlines()[-1])

    page, api, plain = answers["page"], answers["api"], answers["plain_page"]
    assert page["status"] == 200
    assert api["status"] == 401
    for answer in (page, api):
        headers = answer["headers"]
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Content-Type-Options"] == "nosniff"
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp
        assert "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert page["cookies"]["csrftoken"]["secure"] is True
    assert page["cookies"]["csrftoken"]["samesite"] == "Lax"
    # What the proxy marks plain HTTP is redirected to HTTPS; a request that did not come
    # through the proxy (no header: a check on the host) is answered as it came.
    assert plain["status"] == 301
    assert plain["headers"]["Location"] == "https://billing.example.com/portal/login/"
    assert answers["direct"]["status"] == 200
    # ... and is plain HTTP, as it came: no HSTS, and a form POSTed straight to the app server
    # passes CSRF with its http Referer (it was refused as an insecure Referer while the
    # request was taken for HTTPS); through the proxy, the https one does.
    assert "Strict-Transport-Security" not in answers["direct"]["headers"]
    for name in ("direct_post", "proxied_post"):
        assert answers[name]["status"] == 200, answers[name]["body"]
        assert 'name="username"' in answers[name]["body"]  # the sign-in form again, with its error
    # Swagger UI is served with its start-up script as a URL (no inline script to allow).
    docs = answers["docs"]
    assert docs["status"] == 200


def test_session_cookie_is_http_only():
    assert settings.SESSION_COOKIE_HTTPONLY is True
