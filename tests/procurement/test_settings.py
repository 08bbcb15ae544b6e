"""Settings come from the environment only, with secure defaults."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from procurement.settings import BASE_DIR, _email_config, local_secret_key


def import_settings(code: str = "import procurement.settings", **env: str) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter without pytest, as a server would."""
    clean = {k: v for k, v in os.environ.items() if k not in {"PROCUREMENT_ENV", "SECRET_KEY", "DJANGO_DEBUG"}}
    clean.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/unused")
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=60
    )


# As on a fresh clone: no DATABASE_URL, so the settings would start the embedded server;
# it is replaced by a URL nothing connects to (importing the settings opens no connection).
WITHOUT_DATABASE_URL = (
    "import procurement.embedded_db as e; e.ensure_running = lambda: 'postgres://unused@127.0.0.1:9/unused'; "
    "import procurement.settings as s; print(s.DEBUG, s.SECRET_KEY)"
)


def test_it_requires_a_secret_key_with_a_database_url_outside_run_and_test():
    result = import_settings()

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_it_generates_a_secret_key_once_on_a_checkout_without_database_url():
    env = {k: v for k, v in os.environ.items() if k not in {"PROCUREMENT_ENV", "SECRET_KEY", "DJANGO_DEBUG"}}
    env.pop("DATABASE_URL", None)
    runs = [
        subprocess.run(
            [sys.executable, "-c", WITHOUT_DATABASE_URL], cwd=BASE_DIR, env=env, capture_output=True, text=True
        )
        for _ in range(2)
    ]

    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    first, second = (r.stdout.split("\n")[0].split(" ") for r in runs)
    assert first == second
    debug, key = first
    assert debug == "True"
    assert key == (BASE_DIR / "var" / "secret_key").read_text().strip()
    assert len(key) >= 50


def test_it_keeps_a_generated_key_private_and_reuses_it(tmp_path):
    path = tmp_path / "var" / "secret_key"

    key = local_secret_key(path)

    assert len(key) >= 50
    assert path.stat().st_mode & 0o777 == 0o600
    assert local_secret_key(path) == key
    assert local_secret_key(tmp_path / "other") != key


def test_it_starts_with_a_secret_key_and_debug_off():
    result = import_settings(
        "import procurement.settings as s; print(s.DEBUG, s.SECRET_KEY, s.ALLOWED_HOSTS)", SECRET_KEY="s3cret"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == "False s3cret []"


@pytest.mark.parametrize(("env", "debug"), [("run", "True"), ("test", "False")])
def test_it_allows_a_development_key_under_make_run_and_make_test(env, debug):
    result = import_settings(
        "import procurement.settings as s; print(s.DEBUG, bool(s.SECRET_KEY))", PROCUREMENT_ENV=env
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == f"{debug} True"


def test_it_refuses_a_database_other_than_postgresql():
    result = import_settings(DATABASE_URL="sqlite:///db.sqlite3", SECRET_KEY="s3cret")

    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr


def test_it_speaks_chinese_first_and_english_second():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _name in settings.LANGUAGES] == ["zh-hans", "en"]
    assert "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE
    assert settings.USE_I18N


def test_it_displays_shanghai_time_and_stores_utc():
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
    assert settings.BILLING_TIME_ZONE == "Asia/Shanghai"


def test_it_reads_an_smtp_url():
    config = _email_config("smtp://mailer:p%40ss@smtp.example.cn:2525")

    assert config == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.cn",
        "EMAIL_PORT": 2525,
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_SSL": False,
        "EMAIL_USE_TLS": False,
    }


def test_it_uses_starttls_on_the_submission_port():
    # smtp://user:pass@host:587 (CONTRACT.md's example): port 587 means STARTTLS; servers
    # there refuse AUTH on a clear connection.
    config = _email_config("smtp://user:pass@smtp.example.cn:587")

    assert (config["EMAIL_PORT"], config["EMAIL_USE_TLS"], config["EMAIL_USE_SSL"]) == (587, True, False)


def test_it_uses_implicit_tls_on_port_465_and_smtps():
    assert _email_config("smtp://u:p@smtp.example.cn:465")["EMAIL_USE_SSL"] is True
    smtps = _email_config("smtps://u:p@smtp.example.cn")
    assert (smtps["EMAIL_PORT"], smtps["EMAIL_USE_SSL"], smtps["EMAIL_USE_TLS"]) == (465, True, False)


@pytest.mark.parametrize(
    ("url", "tls", "ssl"),
    [
        ("smtp://h:25?tls=True", True, False),
        ("smtp://h:25?tls=1", True, False),
        ("smtp://h:25?tls", True, False),
        ("smtp://h:587?tls=False", False, False),
        ("smtp://h:587?tls=0", False, False),
        ("smtp://h:25?ssl=true", False, True),
        ("smtp://h:465?ssl=false", False, False),
    ],
)
def test_it_reads_tls_and_ssl_flags_by_value(url, tls, ssl):
    config = _email_config(url)

    assert (config["EMAIL_USE_TLS"], config["EMAIL_USE_SSL"]) == (tls, ssl)


def test_it_defaults_the_smtp_port_and_host():
    config = _email_config("smtp://")

    assert (config["EMAIL_HOST"], config["EMAIL_PORT"]) == ("localhost", 25)


def test_it_reads_consolemail():
    assert _email_config("consolemail://") == {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}


def test_it_reads_filemail_with_a_path(tmp_path):
    config = _email_config(f"filemail://{tmp_path}/outbox")

    assert config == {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": f"{tmp_path}/outbox",
    }


def test_it_refuses_an_unknown_email_scheme():
    with pytest.raises(ImproperlyConfigured, match="pigeon"):
        _email_config("pigeon://loft")


def test_it_keeps_mail_in_memory_under_test():
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"


def test_it_refuses_both_ssl_and_tls():
    with pytest.raises(ImproperlyConfigured, match="both"):
        _email_config("smtp://h?ssl=1&tls=1")
