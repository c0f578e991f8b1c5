"""Settings, read from the environment (see ``.env.example``).

Defaults run on one machine; anything malformed fails at start-up with a message
that names the variable, instead of at the first request.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def _typed(name: str, cast, default):
    """Read ``name`` with ``cast``; a malformed value stops the process with its name."""
    try:
        return cast(name, default=default)
    except (ValueError, TypeError) as exc:  # pragma: no cover - exercised by hand
        raise ImproperlyConfigured(f"Environment variable {name} is malformed: {exc}") from exc


DEBUG = _typed("DEBUG", env.bool, False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see .env.example).")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"

# The product's one name, per interface language: header, page titles, README, API
# docs and the run banner all say this (``coordination.context_processors.product``;
# ``{{ product_name }}`` in templates). Not from the environment: it is not a setting
# a deployment changes.
PRODUCT_NAME = {
    "zh-hans": "反诈联席协作平台",
    "en": "Joint Anti-Fraud Coordination Platform",
}

ALLOWED_HOSTS = _typed("ALLOWED_HOSTS", env.list, ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = _typed("CSRF_TRUSTED_ORIGINS", env.list, [])
# The absolute address partners are given in pushes (``result_url``).
PLATFORM_BASE_URL = env.str("PLATFORM_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "django_htmx",
    "coordination",
    "agencies",
    "cases",
    "alerts",
    "review",
    "imports",
    "dissuasion",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response, error pages included (coordination.security).
    "coordination.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Every read of personal data in full leaves one audit row per request.
    "coordination.reads.ReadAuditMiddleware",
    # Last, so lockout sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "coordination.urls"
WSGI_APPLICATION = "coordination.wsgi.application"

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
                "django.template.context_processors.i18n",
                "coordination.context_processors.product",
            ],
        },
    },
]

# PostgreSQL only, through psycopg 3 and Django's connection pool (see docs/adr).
_db_url = env.str("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/coordination")
try:
    _db = environ.Env.db_url_config(_db_url)
except Exception as exc:  # pragma: no cover
    raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from exc
if _db["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...).")
DB_POOL = _typed("DB_POOL", env.bool, True)
_db.setdefault("OPTIONS", {})
if DB_POOL:
    _db["OPTIONS"]["pool"] = {
        "min_size": _typed("DB_POOL_MIN", env.int, 1),
        "max_size": _typed("DB_POOL_MAX", env.int, 10),
        "timeout": 10,
    }
    _db["CONN_MAX_AGE"] = 0
else:
    _db["CONN_MAX_AGE"] = _typed("CONN_MAX_AGE", env.int, 0)
DATABASES = {"default": _db}
# Two roles (docs/operations.md, docs/adr/0008): the platform connects as DATABASE_URL's,
# which owns nothing; migrations (and flush) connect as DATABASE_OWNER_URL's, the owner of
# the tables. Unset: one role does both, as before.
_owner_url = env.str("DATABASE_OWNER_URL", default="")
DATABASE_OWNER: dict = {}
if _owner_url:
    try:
        _owner = environ.Env.db_url_config(_owner_url)
    except Exception as exc:  # pragma: no cover
        raise ImproperlyConfigured(f"DATABASE_OWNER_URL is malformed: {exc}") from exc
    DATABASE_OWNER = {key: _owner.get(key, "") for key in ("USER", "PASSWORD", "HOST", "PORT")}
# The role granted the platform's rights after each migrate (coordination.dbroles.grant_app).
DATABASE_APP_ROLE = _db.get("USER", "") if DATABASE_OWNER else ""
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="coord"),
    }
}

AUTH_USER_MODEL = "agencies.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after inactivity; the centre's machines are shared.
SESSION_COOKIE_AGE = _typed("SESSION_COOKIE_AGE", env.int, 8 * 3600)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Lockout after repeated failed logins (django-axes; agencies/lockout.py): per account
# whatever the address, and per address across accounts (a higher limit, same window).
AXES_FAILURE_LIMIT = _typed("AXES_FAILURE_LIMIT", env.int, 5)
AXES_COOLOFF_TIME = _typed("AXES_COOLOFF_MINUTES", env.int, 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "agencies.lockout.AccountAndAddressHandler"
AXES_LOCKOUT_CALLABLE = "agencies.lockout.locked_out"
LOGIN_ADDRESS_FAILURE_LIMIT = _typed("LOGIN_ADDRESS_FAILURE_LIMIT", env.int, 20)
# axes.W006 asks for "ip_address" among the lockout parameters; the limit per address is
# AccountAndAddressHandler's own (a higher one, and not cleared by a success), so axes'
# per-address count, at the account limit, would lock a whole centre behind one NAT.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# guardian: no anonymous user row; per-object shares only (docs/adr/0002).
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# Our CSRF refusal page (both languages, the site's layout); JSON under /api/.
CSRF_FAILURE_VIEW = "coordination.api.csrf_failure"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
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

# Collected once per start by `make run` (DEBUG off, as deployed): only the hashed
# copies are kept, and source maps (read by a developer's tools, never by a page)
# are not compressed; together they halve collectstatic's time.
WHITENOISE_KEEP_ONLY_HASHED_FILES = not DEBUG
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (
    *("jpg", "jpeg", "png", "gif", "webp", "zip", "gz", "tgz", "bz2", "tbz", "xz", "br"),
    *("woff", "woff2", "map"),
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "coordination.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["coordination.filters.StrictFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["coordination.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "coordination.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "writes": env.str("API_WRITE_RATE", default="600/min"),
        # Identifier lookups per token, GET and POST together (coordination.throttling).
        "identifier_lookup": env.str("API_LOOKUP_RATE", default="1200/min"),
    },
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# The benchmark's constant endpoint (/api/v1/_ping/), off in normal runs.
API_PING = _typed("API_PING", env.bool, False)

SPECTACULAR_SETTINGS = {
    "TITLE": f"{PRODUCT_NAME['en']} API",
    "DESCRIPTION": "Partner protocol v1 and the centre's API. See docs/partner-protocol.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Stable names for choice sets that share a field name ("status").
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "coordination.schema.add_common_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "cases.choices.CaseStatus",
        "TaskStateEnum": "cases.choices.TaskState",
        "ResultStatusEnum": "cases.choices.ResultStatus",
        "IdentifierKindEnum": "cases.choices.IdentifierKind",
        "OutcomeEnum": "cases.choices.CaseOutcome",
        "WarningOutcomeEnum": "dissuasion.choices.Outcome",
        "WarningLevelEnum": "dissuasion.choices.Level",
    },
}

# Celery: the broker is the fast path; the database outbox is the record.
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = False
# Celery's Django fix-up closes every database connection before and after each job unless
# this is set, so neither CONN_MAX_AGE nor the pool survived a job: a push paid for a new
# PostgreSQL session (fork, authentication, catalog caches) every time (issue 16). Set, the
# fix-up closes them only every Nth job; coordination.celery closes a broken or an
# obsolete (CONN_MAX_AGE) connection after each job, as Django does after each request.
CELERY_DB_REUSE_MAX = _typed("CELERY_DB_REUSE_MAX", env.int, 1000)
# The joint meeting's review (docs/review.md): the golden hour's target line, in minutes.
REVIEW_GOLDEN_HOUR_TARGET_MINUTES = _typed("REVIEW_GOLDEN_HOUR_TARGET_MINUTES", env.int, 60)
# Deliveries to partner endpoints (docs/deliveries.md). Seconds throughout.
DELIVERY_WINDOW_SECONDS = _typed("DELIVERY_WINDOW_SECONDS", env.int, 24 * 3600)
DELIVERY_BACKOFF_BASE = _typed("DELIVERY_BACKOFF_BASE", env.float, 2.0)
DELIVERY_BACKOFF_MAX = _typed("DELIVERY_BACKOFF_MAX", env.float, 600.0)
DELIVERY_CONNECT_TIMEOUT = _typed("DELIVERY_CONNECT_TIMEOUT", env.float, 3.0)
DELIVERY_READ_TIMEOUT = _typed("DELIVERY_READ_TIMEOUT", env.float, 10.0)
# A claim outlives the longest possible attempt by this margin; then the sweeper may re-queue.
DELIVERY_LEASE_MARGIN = _typed("DELIVERY_LEASE_MARGIN", env.float, 5.0)
# At most this many pushes in flight per agency: a slow partner holds at most this many workers.
DELIVERY_AGENCY_CONCURRENCY = _typed("DELIVERY_AGENCY_CONCURRENCY", env.int, 2)
# A push job also claims up to this many due deliveries in all (a burst waiting) and sends them
# at once over keep-alive connections; 1 sends one at a time. Per-agency limits still hold.
DELIVERY_BATCH = _typed("DELIVERY_BATCH", env.int, 16)
# How long a job put on the broker may go unclaimed before the sweeper publishes it again.
DELIVERY_REQUEUE_AFTER = _typed("DELIVERY_REQUEUE_AFTER", env.float, 15.0)
DELIVERY_SWEEP_SECONDS = _typed("DELIVERY_SWEEP_SECONDS", env.float, 5.0)
# Empty: pushes share the default queue. Name a queue to give pushes their own workers.
DELIVERY_QUEUE = env.str("DELIVERY_QUEUE", default="")
if DELIVERY_QUEUE:
    CELERY_TASK_ROUTES = {"alerts.push_delivery": {"queue": DELIVERY_QUEUE}}
# Partner endpoints (protocol v1.1, agencies/endpoints.py): https:// only outside development,
# never an internal address, unless this operator's allow-list names the endpoint (host names,
# addresses or networks, each optionally with a port: "127.0.0.1:8100,partner-sim,10.20.0.0/16").
PUSH_REQUIRE_HTTPS = _typed("PUSH_REQUIRE_HTTPS", env.bool, not DEBUG)
PUSH_ALLOWED_HOSTS = _typed("PUSH_ALLOWED_HOSTS", env.list, [])
# How long an agency's previous secret still signs pushes after a new one is set (hours, v1.1).
ENDPOINT_SECRET_OVERLAP_HOURS = _typed("ENDPOINT_SECRET_OVERLAP_HOURS", env.float, 24.0)
WATCH_SECONDS = _typed("WATCH_SECONDS", env.float, 60.0)

# Warning and dissuasion (docs/warnings.md): minutes a unit has to reach the person, by
# level; a warning still unreached a second such period after its deadline goes to the centre.
WARNING_DEADLINE_MINUTES = {
    "high": _typed("WARNING_HIGH_MINUTES", env.int, 10),
    "medium": _typed("WARNING_MEDIUM_MINUTES", env.int, 30),
    "low": _typed("WARNING_LOW_MINUTES", env.int, 120),
}
# An identifier is hot (a clue naming it is raised one level) when an open case that holds it
# has a live stop-payment or freeze on it, or was reported within this many days.
WARNING_HOT_DAYS = _typed("WARNING_HOT_DAYS", env.int, 7)
DIGEST_SECONDS = _typed("DIGEST_SECONDS", env.float, 3600.0)
# The audit chain (coordination.chain): its head is exported, signed, every so many seconds
# to a file outside the database; verify_audit checks the trail against those copies.
AUDIT_HEAD_FILE = Path(env.str("AUDIT_HEAD_FILE", default=str(BASE_DIR / "var" / "audit-heads.log")))
AUDIT_HEAD_KEY = env.str("AUDIT_HEAD_KEY", default="")  # empty: derived from SECRET_KEY
AUDIT_HEAD_EXPORT_SECONDS = _typed("AUDIT_HEAD_EXPORT_SECONDS", env.float, 300.0)
# A record dated more than this before the database sealed it (at commit) is back-dated.
AUDIT_SEAL_TOLERANCE_SECONDS = _typed("AUDIT_SEAL_TOLERANCE_SECONDS", env.int, 3600)
# Retention (cases.retention): personal data of cases closed longer than this is pseudonymised.
RETENTION_DAYS = _typed("RETENTION_DAYS", env.int, 3 * 365)
RETENTION_RUN_SECONDS = _typed("RETENTION_RUN_SECONDS", env.float, 24 * 3600.0)
# Audit records are never pseudonymised nor deleted by it: the chain must keep verifying.
if RETENTION_DAYS < 1:
    raise ImproperlyConfigured("RETENTION_DAYS must be a positive number of days.")
# A pro-rata fund return (through mixing) is announced for this many days before approval
# (CBRC/MPS 2016, Art. 8: a 30-day public notice for objections).
RETURN_NOTICE_DAYS = _typed("RETURN_NOTICE_DAYS", env.int, 30)
if RETURN_NOTICE_DAYS < 0:
    raise ImproperlyConfigured("RETURN_NOTICE_DAYS must be zero or a positive number of days.")
CELERY_BEAT_SCHEDULE: dict = {
    "sweep-deliveries": {"task": "alerts.sweep_deliveries", "schedule": DELIVERY_SWEEP_SECONDS},
    "watch-overdue": {"task": "alerts.watch_overdue", "schedule": WATCH_SECONDS},
    "watch-lapses": {"task": "alerts.watch_lapses", "schedule": WATCH_SECONDS},
    "watch-warnings": {"task": "alerts.watch_warnings", "schedule": WATCH_SECONDS},
    "watch-renewals": {"task": "alerts.watch_renewals", "schedule": 3600.0},
    "watch-supervision": {"task": "review.watch_supervision", "schedule": WATCH_SECONDS},
    # One digest per person and day; hourly runs refresh the day's numbers (idempotent).
    "notification-digests": {"task": "alerts.send_digests", "schedule": DIGEST_SECONDS},
    "export-audit-head": {"task": "coordination.export_audit_head", "schedule": AUDIT_HEAD_EXPORT_SECONDS},
    "retention": {"task": "cases.apply_retention", "schedule": RETENTION_RUN_SECONDS},
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@afc.invalid")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = _typed("EMAIL_PORT", env.int, 25)

# Production hardening; every value can be relaxed through the environment for a
# deployment that terminates TLS elsewhere.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = _typed("SECURE_SSL_REDIRECT", env.bool, not DEBUG)
SESSION_COOKIE_SECURE = _typed("SESSION_COOKIE_SECURE", env.bool, not DEBUG)
CSRF_COOKIE_SECURE = _typed("CSRF_COOKIE_SECURE", env.bool, not DEBUG)
SECURE_HSTS_SECONDS = _typed("SECURE_HSTS_SECONDS", env.int, 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Only the platform's own scripts and styles; no inline code (coordination.security).
CSP_REPORT_ONLY = _typed("CSP_REPORT_ONLY", env.bool, False)
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Stamped in TIME_ZONE with its offset, like every time the platform shows.
    "formatters": {
        "plain": {
            "()": "coordination.logs.ZonedFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "zone": TIME_ZONE,
        }
    },
    # No line carries a whole resident ID, phone or account (coordination.logs); every
    # other handler (Django's, Celery's, gunicorn's) gets the same filter at start-up.
    "filters": {"mask_personal_data": {"()": "coordination.logs.MaskPersonalData"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_personal_data"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # httpx logs every request at INFO: one line per push attempt, already logged by alerts.tasks.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
