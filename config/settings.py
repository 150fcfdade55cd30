"""One settings module, driven by environment variables (see README: Configuration)."""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
VAR_DIR = Path(env.str("DJANGO_VAR_DIR", default=str(BASE_DIR / "var")))

DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"]
)

if not DEBUG and (SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "DJANGO_DEBUG is off, so DJANGO_SECRET_KEY must be set to a long random value "
        "(for example: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )

SITE_NAME = "MLOps Roadmap"
# The public address every e-mail links to; production refuses to start without one
# (core/checks.py).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django_filters",
    "django_htmx",
    "csp",
    "taggit",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "core",
    "accounts",
    "resources",
    "roadmap",
]

MIDDLEWARE = [
    "core.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # If-None-Match against a page's ETag, cached pages included: a 304 instead of the page.
    "django.middleware.http.ConditionalGetMiddleware",
    # Django's page cache, fed by HTTP headers: it stores what a view marks with max-age (see
    # core/cache.py), with the headers the middleware below add, and serves it before them.
    "django.middleware.cache.CacheMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.middleware.MissingSocialAppMiddleware",
    "core.middleware.ServiceUnavailableMiddleware",
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
                "core.context_processors.site",
            ],
        },
    },
]

# Databases: PostgreSQL when DATABASE_URL is set, otherwise a SQLite file tuned for
# several writers (WAL lets readers run beside a writer; IMMEDIATE takes the write lock
# at BEGIN so two writers queue on the busy timeout instead of failing mid-transaction).
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    # A health check is a `SELECT 1` before every request's first query. Without it, a
    # database restart costs each app thread one failed request before it reconnects.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DJANGO_DB_HEALTH_CHECKS", default=False)
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
        "DJANGO_PG_PREPARED", default=True
    ):
        # Parameters bound by the server, and a statement prepared once a connection has run
        # it five times (psycopg's default threshold; Django leaves prepared statements off
        # unless asked, for poolers): PostgreSQL then plans the statements every request
        # repeats once per connection, not each time (psycopg keeps the last 100 of them).
        # Planning a topic page's narrow read took 1.4 ms against 1 ms to run it.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["server_side_binding"] = True
        options["prepare_threshold"] = 5
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
        "DJANGO_PG_JIT_OFF", default=True
    ):
        # Short queries only: JIT compiling one costs more (20 ms seen) than it can save.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default=str(VAR_DIR / "db.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA busy_timeout=20000;"
                    "PRAGMA foreign_keys=ON;"
                ),
            },
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            # A file, not shared memory, so that tests exercise the same locking (WAL,
            # IMMEDIATE, busy timeout) as the running site, concurrency tests included.
            "TEST": {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Caches, two jobs kept apart so that one cannot wipe another's keys:
# - "default": allauth's rate-limit counters (failed sign-ins, resets) and small shared reads
#   (the section tree). Nothing evicts it: a flood of pages must not reset a lockout.
# - "pages": anonymous readers' whole pages, emptied after every change they can see
#   (core/cache.py), and evicted under memory pressure.
# With Redis, "pages" lives on a server of its own (REDIS_PAGES_URL, LRU eviction) and the
# others on REDIS_URL's, which deploy/ runs with `noeviction`: Redis evicts across all the
# databases of a server, so a database of its own would not protect the counters. Without
# REDIS_PAGES_URL the pages take the next database of REDIS_URL's server (development).
# (django-redis keeps one Redis client per server; Django's own Redis backend builds one
# per call, which costs more than serving a cached page.)
#
# When the cache is down: pages are drawn uncached, sessions are untouched (they live in
# the database), and the section tree is computed afresh (core/cache.py); the forms guarded
# by rate limits (sign-in, sign-up, password reset) answer 503 (core/middleware.py), failing
# closed.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Sessions stay in the database (Django's default engine), not read through Redis: a
    # copy in the cache outlives a sign-out made while Redis is down, and comes back with it.
    _redis = urlsplit(REDIS_URL)
    _pages_db = int(_redis.path.strip("/") or 0) + 1
    REDIS_PAGES_URL = env.str(
        "REDIS_PAGES_URL", default=urlunsplit(_redis._replace(path=f"/{_pages_db}"))
    )
    # A server that is down answers at once; one that hangs costs at most this long.
    _redis_timeouts = {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1}
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "mlops",
            "OPTIONS": _redis_timeouts,
        },
        "pages": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_PAGES_URL,
            "KEY_PREFIX": "mlops",
            # A page cache that is down is a miss: pages are drawn afresh, not refused.
            "OPTIONS": {**_redis_timeouts, "IGNORE_EXCEPTIONS": True},
        },
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "django_cache",
            "KEY_PREFIX": "mlops",
            # Django culls a third of the table past MAX_ENTRIES (300 unless set), live
            # rate-limit counters included: so many that only expired entries are culled.
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        },
        "pages": {
            # Its failures are misses, as with Redis' IGNORE_EXCEPTIONS.
            "BACKEND": "core.cache_backends.TolerantDatabaseCache",
            "LOCATION": "django_cache_pages",
            "KEY_PREFIX": "mlops",
            "OPTIONS": {"MAX_ENTRIES": 5000},
        },
    }
# Anonymous readers' pages stay cached at most this long; off in development unless asked
# for, so that an edited template shows at once.
PAGE_CACHE_SECONDS = env.int("DJANGO_PAGE_CACHE_SECONDS", default=0 if DEBUG else 300)
CACHE_MIDDLEWARE_ALIAS = "pages"
CACHE_MIDDLEWARE_KEY_PREFIX = ""
# Only pages that say how long they may be kept (Cache-Control: max-age) are stored.
CACHE_MIDDLEWARE_SECONDS = 0

AUTH_USER_MODEL = "accounts.User"
# Django's and allauth's backends, loading the user with their email verification state.
# (Sessions made under the plain backends' names end at the change; listing those names too
# would keep them, but would hash every failed password twice more.)
AUTHENTICATION_BACKENDS = [
    "accounts.backends.ModelBackend",
    "accounts.backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"

# django-allauth
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# Failed sign-ins count per address, per (account, address) pair and, more loosely, per
# account (accounts/adapter.py): a stranger's wrong passwords lock out only the stranger,
# and the owner's password reset always works and lifts the lock. Reset mails to one
# address are limited without refusing the form ("reset_password_mail", accounts/forms.py),
# so that a stranger cannot use up the owner's reset either.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "login_failed_account": "20/30m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip",
    "reset_password_mail": "3/15m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
}
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Following the link in the verification mail signs the reader in (in the browser that
# signed up), instead of asking for the password again.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_USERNAME_BLACKLIST = ["admin", "administrator", "moderator", "root", "staff", "me"]
# The blacklist is also checked with look-alike letters folded (аdmin with a Cyrillic а).
ACCOUNT_USERNAME_VALIDATORS = "accounts.validators.username_validators"
# The site's templates show every label, so these forms drop the placeholders that repeat them.
ACCOUNT_FORMS = {
    "login": "accounts.forms.LoginForm",
    "signup": "accounts.forms.SignupForm",
    "reset_password": "accounts.forms.ResetPasswordForm",
    "reset_password_from_key": "accounts.forms.ResetPasswordKeyForm",
    "change_password": "accounts.forms.ChangePasswordForm",
    "set_password": "accounts.forms.SetPasswordForm",
    "add_email": "accounts.forms.AddEmailForm",
}
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
# A third-party sign-in starts only from a POST form with a CSRF token, never from a link.
SOCIALACCOUNT_LOGIN_ON_GET = False
GITHUB_CLIENT_ID = env.str("GITHUB_CLIENT_ID", default="")
GITHUB_CLIENT_SECRET = env.str("GITHUB_CLIENT_SECRET", default="")
SOCIALACCOUNT_PROVIDERS = {}
if GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET:
    SOCIALACCOUNT_PROVIDERS["github"] = {
        "APPS": [{"client_id": GITHUB_CLIENT_ID, "secret": GITHUB_CLIENT_SECRET, "key": ""}],
        "SCOPE": ["user:email"],
    }

# Email: EMAIL_URL (smtp://user:pass@host:587/?tls=True) or DJANGO_EMAIL_BACKEND; in
# development, messages are written as files under var/mail/ where a person can read them.
if env.str("EMAIL_URL", default=""):
    _email = env.email_url("EMAIL_URL")
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email["EMAIL_HOST"]
    EMAIL_PORT = _email["EMAIL_PORT"]
    EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
    EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
    EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
else:
    EMAIL_BACKEND = env.str(
        "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend"
    )
    EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="MLOps Roadmap <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = DEBUG
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed names need collectstatic, which `make serve` runs; development
        # and tests serve the files as they are.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Django's database sessions, their one read a request written out (core/sessions.py).
SESSION_ENGINE = "core.sessions"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Security. In production (DJANGO_DEBUG=false) `manage.py check --deploy` reports nothing.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
if env.bool("DJANGO_BEHIND_PROXY", default=not DEBUG):
    # The proxy terminates TLS and says so in X-Forwarded-Proto (see deploy/).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Rate limits count the reader's address, which the one proxy in front appends to
    # X-Forwarded-For, not the proxy's own: else ten wrong passwords lock everyone out.
    ALLAUTH_TRUSTED_PROXY_COUNT = 1
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=True)

# Content Security Policy (django-csp): nothing inline, nothing from another host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", "https://github.com"],
    }
}

# The link checker (manage.py check_links) refuses private, loopback and link-local
# addresses: the links are user-submitted. Only for a private deployment's own links.
LINKCHECK_ALLOW_PRIVATE_ADDRESSES = env.bool("DJANGO_LINKCHECK_ALLOW_PRIVATE", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env.str("DJANGO_LOG_FORMAT", default="text" if DEBUG else "json"),
        }
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Every request is logged once by core.middleware.RequestLogMiddleware.
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}
