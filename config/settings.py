"""One settings module for every environment: the environment variables decide.

Every variable read here is listed, with a comment, in `.env.example` and in the README.
A production configuration that would be unsafe refuses to start with a one-line reason
(`SystemExit` prints the message without a traceback).
"""

import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent


def _str(name: str, default: str = "") -> str:
    """An environment value; empty counts as unset, as in .env.example."""
    return os.environ.get(name, "").strip() or default


VAR_DIR = Path(_str("APP_VAR_DIR", str(BASE_DIR / "var"))).resolve()


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SystemExit(f"config error: {name}={raw!r} is not a boolean (use 1 or 0)")


def _list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"config error: {name}={raw!r} is not a whole number") from None


def _secret_key_weakness(key: str) -> str:
    """What makes a key weak by Django's own rule (check --deploy's security.W009), which is
    only a warning there; here a production start refuses it. Empty when the key is fine."""
    if len(key) < 50:
        return f"has {len(key)} characters, fewer than 50"
    if len(set(key)) < 5:
        return f"has {len(set(key))} distinct characters, fewer than 5"
    if key.startswith("django-insecure-"):
        return "starts with 'django-insecure-', the mark of a generated development key"
    return ""


DEBUG = _flag("DJANGO_DEBUG", False)
# HTTPS-only behaviour (HSTS, secure cookies, redirect to https). On by default in production;
# turned off for the test suite, which talks plain HTTP to a local server.
HTTPS = _flag("DJANGO_HTTPS", not DEBUG)

SECRET_KEY = _str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise SystemExit(
            "config error: SECRET_KEY is not set; set it (50+ random characters) "
            "or set DJANGO_DEBUG=1 for local development"
        )
    SECRET_KEY = "insecure-development-key-only-used-when-DJANGO_DEBUG-is-on"  # noqa: S105
elif not DEBUG and (weakness := _secret_key_weakness(SECRET_KEY)):
    raise SystemExit(
        f"config error: SECRET_KEY {weakness}; set 50+ random characters "
        "(Django's security.W009 rule)"
    )

ALLOWED_HOSTS = _list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    if not DEBUG:
        raise SystemExit("config error: ALLOWED_HOSTS is not set; list the site's host names")
    ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
CSRF_TRUSTED_ORIGINS = _list("CSRF_TRUSTED_ORIGINS")

SITE_TIME_ZONE = _str("SITE_TIME_ZONE", "Europe/London")
# The address people open; links in reminders point here.
SITE_URL = _str("SITE_URL", "http://127.0.0.1:8000")
try:
    ZoneInfo(SITE_TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise SystemExit(
        f"config error: SITE_TIME_ZONE={SITE_TIME_ZONE!r} is not an IANA time zone"
    ) from None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "accounts",
    "clinics",
    "audit",
    "schedules",
    "flags",
    "reminders",
    "workspace",
    "portal",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Inside authentication, so it sees who is signed in and every response made below it.
    "config.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionLifetimeMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # django-axes must come last: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "workspace.context_processors.navigation",
            ],
        },
    },
]

DATABASE_URL = _str("DATABASE_URL")
try:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
            conn_max_age=_int("DATABASE_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    }
except ValueError as exc:
    raise SystemExit(f"config error: DATABASE_URL is not a database URL ({exc})") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # SQLite is the zero-setup default; the test database is a file so that a Celery worker
    # process started by a test can see the same rows.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
    # IMMEDIATE: a transaction takes the write lock when it begins. Two transactions that
    # each read and then write would otherwise deadlock on upgrading their locks, and SQLite
    # answers "database is locked" at once, whatever the timeout (Django 5.1+).
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # The app's queries are short. PostgreSQL's JIT, which its cost estimates switch on for the
    # dashboard's adherence query, spent ~90 ms compiling to save a few (measured): off.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2

# Sessions: 30 minutes idle (the expiry moves forward with every request) and 12 hours at
# most from login (accounts.middleware.SessionLifetimeMiddleware).
SESSION_COOKIE_AGE = 30 * 60
# accounts.middleware.SessionLifetimeMiddleware saves a session in use once a minute.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_TOUCH_SECONDS = 60
SESSION_ABSOLUTE_LIFETIME = timedelta(hours=12)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Repeated failed logins lock out that username from that address only, so nobody can lock
# someone else out from everywhere by guessing at their username.
AXES_FAILURE_LIMIT = _int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The client's address as the audit log reads it, proxies taken into account (TRUSTED_PROXY_COUNT).
AXES_CLIENT_IP_CALLABLE = "accounts.client.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# Messages anyone can ask the app to send, counted per hour (accounts/throttle.py). A password
# reset goes at most this often to one address, and one client (an IP address, proxies taken
# into account) may ask for this many; a whole clinic behind one address may need more.
PASSWORD_RESET_LIMIT_PER_ADDRESS = 3
PASSWORD_RESET_LIMIT_PER_CLIENT = _int("PASSWORD_RESET_LIMIT_PER_CLIENT", 10)
if PASSWORD_RESET_LIMIT_PER_CLIENT < 1:
    raise SystemExit("config error: PASSWORD_RESET_LIMIT_PER_CLIENT must be 1 or more")
# Codes confirming a new email address or phone number: per address (whoever asks) and per
# person (whatever the address); test notifications per person.
CONFIRMATION_CODE_LIMIT_PER_ADDRESS = 3
CONFIRMATION_CODE_LIMIT_PER_USER = 6
TEST_MESSAGE_LIMIT_PER_USER = 6

OTP_TOTP_ISSUER = _str("OTP_ISSUER", "B12 Clinic")
OTP_TOTP_THROTTLE_FACTOR = 1

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Installed from the npm registry by `npm ci` (package.json pins the versions).
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules" / "bootstrap-icons" / "font"),
    ("vendor/chart.js", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: the console in development; SMTP when EMAIL_HOST is set.
EMAIL_HOST = _str("EMAIL_HOST")
EMAIL_PORT = _int("EMAIL_PORT", 587)
EMAIL_HOST_USER = _str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = _str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = _flag("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 20
EMAIL_BACKEND = _str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = _str("DEFAULT_FROM_EMAIL", "B12 Clinic <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security headers. X-Frame-Options and CSP frame-ancestors both deny framing.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
BEHIND_PROXY = _flag("DJANGO_BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many reverse proxies stand in front of the app, each appending to X-Forwarded-For the
# address it was reached from (accounts/client.py). 0: the header is never believed.
TRUSTED_PROXY_COUNT = _int("TRUSTED_PROXY_COUNT", 1 if BEHIND_PROXY else 0)
if TRUSTED_PROXY_COUNT < 0:
    raise SystemExit("config error: TRUSTED_PROXY_COUNT must be 0 (no proxy) or more")
# No inline scripts or styles anywhere: every script and style is a static file.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Celery. With REDIS_URL unset, kombu's filesystem transport carries messages between
# processes through folders, so `make run` needs no server at all.
REDIS_URL = _str("REDIS_URL")
# The cache: Redis when REDIS_URL is set (shared by every web process on every machine),
# otherwise each process's own memory. The nurse's dashboard keeps its table there.
CACHES = {
    "default": (
        {
            # Django's own, keeping one Redis client per pool (config/cache.py).
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "b12",
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Sessions are read from Redis and written through to the database when Redis is shared by
# every web process; with each process's own memory they stay in the database alone, or a
# session ended in one process could live on in another's memory.
SESSION_ENGINE = f"django.contrib.sessions.backends.{'cached_db' if REDIS_URL else 'db'}"
STAFF_PAGE_CACHE_SECONDS = _int("STAFF_PAGE_CACHE_SECONDS", 60)
if STAFF_PAGE_CACHE_SECONDS < 0:
    raise SystemExit("config error: STAFF_PAGE_CACHE_SECONDS must be 0 (off) or more")
# A patient's record is kept until their data changes or the clock changes what it shows
# (workspace/page_cache.py), and this long at most; 0 does not keep them.
STAFF_RECORD_CACHE_SECONDS = _int("STAFF_RECORD_CACHE_SECONDS", 3600)
if STAFF_RECORD_CACHE_SECONDS < 0:
    raise SystemExit("config error: STAFF_RECORD_CACHE_SECONDS must be 0 (off) or more")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
else:
    BROKER_DIR = VAR_DIR / "broker"
    for sub in ("queue", "control", "processed", "results"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://localhost//"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
    CELERY_RESULT_BACKEND = f"file://{BROKER_DIR / 'results'}"
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = timedelta(hours=1)
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Workers keep their database connection across tasks (config/celery.py closes it as Django
# does after a request: past CONN_MAX_AGE, broken or mid-transaction); Celery's fixup would
# otherwise close it after every task. It still closes it every this many tasks.
CELERY_DB_REUSE_MAX = 1000
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# How long a reminder may sit handed to the broker, or being sent, before the reaper decides
# its task or its worker was lost and puts it back (reminders/services/outbox/reaper.py).
REMINDER_QUEUED_LEASE_SECONDS = _int("REMINDER_QUEUED_LEASE_SECONDS", 30)
REMINDER_SENDING_LEASE_SECONDS = _int("REMINDER_SENDING_LEASE_SECONDS", 90)
REMINDER_SWEEP_SECONDS = _int("REMINDER_SWEEP_SECONDS", 5)

# Fixed short intervals in UTC. Every task is idempotent, so two beat processes by mistake
# cost work, never a duplicate message.
CELERY_BEAT_SCHEDULE = {
    "reminders-sweep": {
        "task": "reminders.sweep",
        "schedule": timedelta(seconds=REMINDER_SWEEP_SECONDS),
    },
    "reminders-reap": {
        "task": "reminders.reap",
        "schedule": timedelta(seconds=REMINDER_SWEEP_SECONDS),
    },
    "reminders-plan": {"task": "reminders.plan", "schedule": timedelta(minutes=5)},
    "reminders-urgent-flags": {"task": "reminders.urgent_flags", "schedule": timedelta(seconds=30)},
    "reminders-nurse-digests": {
        "task": "reminders.nurse_digests",
        "schedule": timedelta(minutes=10),
    },
    "schedules-mark-missed": {"task": "schedules.mark_missed", "schedule": timedelta(minutes=5)},
    "clinics-warm-records": {"task": "clinics.warm_records", "schedule": timedelta(seconds=30)},
    "schedules-extend-horizons": {
        "task": "schedules.extend_horizons",
        "schedule": timedelta(hours=6),
    },
    "flags-overdue-doses": {"task": "flags.overdue_doses", "schedule": timedelta(minutes=15)},
    "flags-overdue-labs": {"task": "flags.overdue_labs", "schedule": timedelta(minutes=15)},
    "flags-open-phase-reviews": {
        "task": "flags.open_phase_reviews",
        "schedule": timedelta(minutes=15),
    },
    "sessions-clear-expired": {
        "task": "accounts.sessions_clear_expired",
        "schedule": timedelta(hours=1),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": _str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Reminder channels ----------------------------------------------------------------------------
# Web push (VAPID, RFC 8292): `manage.py vapid_keys` prints a fresh pair. With no private key,
# push is off: push channels fail with "push is not configured on this server".
VAPID_PRIVATE_KEY = _str("VAPID_PRIVATE_KEY")
VAPID_PUBLIC_KEY = _str("VAPID_PUBLIC_KEY")
VAPID_SUBJECT = _str("VAPID_SUBJECT")
if VAPID_PRIVATE_KEY and not VAPID_PUBLIC_KEY:
    raise SystemExit("config error: VAPID_PRIVATE_KEY is set but VAPID_PUBLIC_KEY is not")
if VAPID_PRIVATE_KEY and not VAPID_SUBJECT.startswith(("mailto:", "https://")):
    # Push services refuse a VAPID token without a way to contact the sender.
    raise SystemExit("config error: VAPID_SUBJECT must be a mailto: or https:// address")
PUSH_TTL_SECONDS = _int("PUSH_TTL_SECONDS", 4 * 60 * 60)
PUSH_TIMEOUT = _int("PUSH_TIMEOUT", 10)
# The push services the server will POST to (a leading dot matches subdomains): Chrome and
# Edge (FCM), Firefox (Mozilla), Windows (WNS) and Safari (Apple). Every outbound request goes
# through reminders/channels/outbound.py, which sends only to these and to SMS_HTTP_URL's host.
PUSH_SERVICE_HOSTS = [
    host.lower().rstrip(".")
    for host in _list("PUSH_SERVICE_HOSTS")
    or [
        "fcm.googleapis.com",
        ".push.services.mozilla.com",
        ".notify.windows.com",
        ".push.apple.com",
    ]
]
_HOST_NAME = r"\.?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]([a-z0-9-]*[a-z0-9])?"
if _not_hosts := [host for host in PUSH_SERVICE_HOSTS if not re.fullmatch(_HOST_NAME, host)]:
    raise SystemExit(
        f"config error: PUSH_SERVICE_HOSTS has {_not_hosts[0]!r}, which is not a host name "
        "(e.g. fcm.googleapis.com, or .push.apple.com for its subdomains)"
    )
# Tests only, never in production: push endpoints and the SMS provider may then be plain http on
# 127.0.0.1 or localhost, on any port, and outbound requests may connect to loopback addresses
# (the test suite's fake push services and SMS providers). Private addresses stay refused.
OUTBOUND_ALLOW_LOOPBACK = _flag("OUTBOUND_ALLOW_LOOPBACK", False)
SMS_BACKEND = _str("SMS_BACKEND", "console")
if SMS_BACKEND not in {"console", "file", "http"}:
    raise SystemExit(f"config error: SMS_BACKEND={SMS_BACKEND!r} is not console, file or http")
SMS_FILE_PATH = _str("SMS_FILE_PATH", str(VAR_DIR / "sms.jsonl"))
SMS_HTTP_URL = _str("SMS_HTTP_URL")
SMS_HTTP_TOKEN = _str("SMS_HTTP_TOKEN")
SMS_HTTP_TIMEOUT = _int("SMS_HTTP_TIMEOUT", 10)
if SMS_BACKEND == "http" and not SMS_HTTP_URL:
    raise SystemExit("config error: SMS_BACKEND is http but SMS_HTTP_URL is not set")
# The bearer token and the patients' numbers travel in it: https, or plain http only to the
# test suite's own provider on this machine.
_SMS_TEST_PROVIDER = OUTBOUND_ALLOW_LOOPBACK and urlsplit(SMS_HTTP_URL).hostname in {
    "127.0.0.1",
    "localhost",
}
if SMS_HTTP_URL and not SMS_HTTP_URL.lower().startswith("https://") and not _SMS_TEST_PROVIDER:
    raise SystemExit("config error: SMS_HTTP_URL must be an https:// address")
# End of reminder channels ---------------------------------------------------------------------
