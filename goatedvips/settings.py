"""Settings for GoatedVIPs, read from the environment (12-factor).

Two modes share this file:
- embedded (default): SQLite, in-memory channel layer, local-memory cache, Celery tasks run in-process and an
  in-process scheduler replaces Celery beat. One process serves everything (`make run`).
- scaled: `DATABASE_URL` (PostgreSQL) and `REDIS_URL` (or `REDIS_SENTINELS` + `REDIS_SENTINEL_MASTER`) set; Redis
  is the Celery broker, channel layer, cache and rate-limit store, and the Procfile's topology runs.
"""

from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from goatedvips.logging_config import logging_config
from goatedvips.redis_config import redis_settings

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Off unless asked for: a deploy that forgets it must not serve debug pages (`make run` and the tests set DEBUG=1).
DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET = "dev-only-insecure-key-do-not-use-in-production-5f1c0a7e"  # noqa: S105 (refused when DEBUG=0)
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == _DEV_SECRET):
    raise ImproperlyConfigured("SECRET_KEY must be set to a long random value when DEBUG=0")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG=0")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # daphne first so `runserver` serves ASGI (HTTP + WebSockets).
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Form widgets render through the project's templates (templates/admin/widgets/ overrides Django's).
    "django.forms",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "core.apps.FeatureSwitchesConfig",  # django-waffle, named "Feature switches" in admin
    # Ours, lowest layer first (docs/architecture.md): an app imports only the apps listed above it.
    "core",
    "notifications",
    "vip",
    "races",
    "payouts",
    "giveaways",
    "overlays",
    "accounts",
    "support",
    "experiments",
    "growth",
    "telegram_bot",
    "goatedvips",
]

MIDDLEWARE = [
    # Outermost: every request gets an id for its log lines (and its tasks'), and is counted and timed.
    "core.logs.RequestIdMiddleware",
    "core.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the request: NUL bytes and unstorable text are a 400, never a 500 deeper down.
    "core.middleware.RejectUnstorableInputMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "overlays.middleware.CookielessOverlayMiddleware",  # /overlay/: no cookie read, none set
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.middleware.StaffTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.TermsGateMiddleware",  # a player who has not accepted the current terms sees them first
    "accounts.activity.LastActiveMiddleware",  # User.last_active: at most one write a minute per user
    "growth.visits.VisitCountMiddleware",  # page views per day for the funnel: cache counters, no query
    # Write requests and the back office read from the primary, never the replica (core.db_router).
    "core.db_router.PrimaryOnlyMiddleware",
    # A switched-off feature (core.features, toggled in admin) answers 503 before its view runs.
    "core.features.FeatureGateMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Innermost: an ETag on every GET answer and a 304 when the client has it (headers above still apply).
    "django.middleware.http.ConditionalGetMiddleware",
]

ROOT_URLCONF = "goatedvips.urls"
WSGI_APPLICATION = "goatedvips.wsgi.application"
ASGI_APPLICATION = "goatedvips.asgi.application"

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
                "goatedvips.context_processors.site",
            ],
            # `|money` without {% load %} (core.money: cut to cents); `{% url %}` remembering reversals (templatetags)
            "builtins": ["core.templatetags.money", "core.templatetags.urls"],
        },
    },
]
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Database -------------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the in-process scheduler write while the web thread reads.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file (var/, git-ignored), not shared memory: tests with concurrent workers need SQLite's file locking. Named
    # after the database file (db.sqlite3 → var/test-db.sqlite3): the suite and the browser tests never share one.
    (BASE_DIR / "var").mkdir(exist_ok=True)
    _stem = Path(DATABASES["default"]["NAME"]).stem
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(BASE_DIR / "var" / f"test-{_stem}.sqlite3")
IS_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
# PostgreSQL: each process borrows from its own pool (psycopg_pool), at most DB_POOL_MAX_SIZE (without, bench/load.py
# hit "too many clients" at 200 users). Processes × DB_POOL_MAX_SIZE must stay under max_connections.
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=10)
if IS_POSTGRES and DB_POOL_MAX_SIZE > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections; Django must not
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1, "max_size": DB_POOL_MAX_SIZE, "timeout": env.float("DB_POOL_TIMEOUT", default=3.0),
    }  # fmt: skip
# Past DB_POOL_TIMEOUT (database down, restarting) a request gets a 503 (goatedvips.views.server_error; make chaos).
# A read replica (core.db_router): the public read-mostly data is read from it outside transactions.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
READ_REPLICA = env.bool("READ_REPLICA", default=bool(DATABASE_REPLICA_URL))
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = env.db_url_config(DATABASE_REPLICA_URL)
    DATABASES["replica"].setdefault("CONN_MAX_AGE", DATABASES["default"]["CONN_MAX_AGE"])
    if IS_POSTGRES and DATABASES["replica"]["ENGINE"].startswith("django.db.backends.postgresql") and DB_POOL_MAX_SIZE:
        DATABASES["replica"]["CONN_MAX_AGE"] = 0
        DATABASES["replica"].setdefault("OPTIONS", {})["pool"] = dict(DATABASES["default"]["OPTIONS"]["pool"])
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["replica"].setdefault("OPTIONS", {}).update({"timeout": 20})
        _stem = Path(DATABASES["replica"]["NAME"]).stem
        DATABASES["replica"].setdefault("TEST", {})["NAME"] = str(BASE_DIR / "var" / f"test-{_stem}.sqlite3")
DATABASE_ROUTERS = ["core.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, channel layer, Celery (goatedvips/redis_config.py; Sentinel: docs/operations.md) -----------------
REDIS_URL = env.str("REDIS_URL", default="")
REDIS_SENTINELS = env.str("REDIS_SENTINELS", default="")
REDIS_SENTINEL_MASTER = env.str("REDIS_SENTINEL_MASTER", default="")
CHANNEL_LAYER_KIND = env.str("CHANNEL_LAYER_KIND", default="pubsub")
_REDIS = redis_settings(
    redis_url=REDIS_URL,
    sentinels=REDIS_SENTINELS,
    sentinel_master=REDIS_SENTINEL_MASTER,
    cache_key_prefix=env.str("CACHE_KEY_PREFIX", default="gv"),
    layer_prefix=env.str("CHANNEL_LAYER_PREFIX", default="gv-asgi"),
    layer_kind=CHANNEL_LAYER_KIND,
)
EMBEDDED = _REDIS.embedded
CACHES = _REDIS.caches
CHANNEL_LAYERS = _REDIS.channel_layers
CELERY_BROKER_URL = _REDIS.broker_url
CELERY_BROKER_TRANSPORT_OPTIONS = _REDIS.broker_transport_options
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = EMBEDDED
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TIMEZONE = "UTC"
# One beat sends the schedule; a second one started by mistake stands by (goatedvips/beatlock.py).
CELERY_BEAT_SCHEDULER = "goatedvips.beatlock:LeaderScheduler"
SYNC_INTERVAL_SECONDS = env.int("SYNC_INTERVAL_SECONDS", default=60)
# The one schedule (Celery beat in scaled mode, the in-process scheduler in embedded mode); add periodic tasks here.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "sync-wagers": {"task": "races.sync_wagers", "schedule": float(SYNC_INTERVAL_SECONDS)},
    "race-tick": {"task": "races.race_tick", "schedule": float(env.int("RACE_TICK_SECONDS", default=30))},
    # Raffles open and are drawn on the race tick's rhythm.
    "raffle-tick": {"task": "giveaways.raffle_tick", "schedule": float(env.int("RACE_TICK_SECONDS", default=30))},
    # Last month's statement to every player who wants one, on the 1st at 06:00 UTC.
    "monthly-statements": {"task": "races.monthly_statements", "schedule": crontab(minute=0, hour=6, day_of_month=1)},
    "retention": {"task": "goatedvips.retention", "schedule": crontab(minute=30, hour=3)},  # rows past their age
    "self-exclusion-ends": {"task": "accounts.self_exclusion_end_announce", "schedule": 300.0},  # told once
    "feed-token-check": {"task": "races.feed_token_check", "schedule": 300.0},  # warn 24 h and 2 h before expiry
    "visit-counts-flush": {"task": "growth.visit_counts_flush", "schedule": 60.0},  # page views → growth.VisitDay
    "referral-clicks-flush": {"task": "growth.referral_clicks_flush", "schedule": 60.0},  # /go/ → ReferralClickDay
    "wager-snapshots": {"task": "growth.wager_snapshots", "schedule": crontab(minute=10)},  # cohorts and prize ROI
}

# Affiliate feed client (docs/design.md §4): upstream answers in 8-14 s, so the read timeout is generous.
FEED_CONNECT_TIMEOUT = env.float("FEED_CONNECT_TIMEOUT", default=5.0)
FEED_READ_TIMEOUT = env.float("FEED_READ_TIMEOUT", default=45.0)
FEED_MAX_RETRIES = env.int("FEED_MAX_RETRIES", default=2)
FEED_BACKOFF_SECONDS = env.float("FEED_BACKOFF_SECONDS", default=2.0)
FEED_MAX_BYTES = env.int("FEED_MAX_BYTES", default=64 * 1024 * 1024)
# A sync whose total of a period fell by more than this fraction since the previous sync (with no period reset in
# between) still updates players but not live races (docs/races.md, "Time").
SYNC_COLLAPSE_FRACTION = env.float("SYNC_COLLAPSE_FRACTION", default=0.5)
# A sync holds this lock; it expires on its own if a worker dies mid-sync.
SYNC_LOCK_SECONDS = env.int("SYNC_LOCK_SECONDS", default=600)
# The leaderboard API serves the top rows of each period from one cached payload; deeper pages hit the DB.
LEADERBOARD_CACHE_ROWS = 1000
# GET /api/v1/leaderboard/ answered from process memory in front of Django (goatedvips/fastpath.py); 0 sends
# every request through Django (same bytes, slower).
LEADERBOARD_FAST_PATH = env.bool("LEADERBOARD_FAST_PATH", default=True)
# Home, /leaderboard/, /races/ and race pages for visitors without cookies: Django's answer resent from process
# memory for this many seconds (goatedvips/pagecache.py); 0 sends every request through Django.
PAGE_CACHE_SECONDS = env.float("PAGE_CACHE_SECONDS", default=1.0)

# Feed players without a choice of their own appear as: full or masked (races.feed.names; races.E002 checks it).
PUBLIC_NAME_DISPLAY = env.str("PUBLIC_NAME_DISPLAY", default="full")

# Race engine: the bounded progress history kept per race (top N per sample).
RACE_PROGRESS_TOP_N = 20
RACE_PROGRESS_MAX_SAMPLES = 500

# The in-process scheduler (embedded mode): started by `manage.py serve`, never by tests or by daphne.
EMBEDDED_SCHEDULER_TICK_SECONDS = 1.0

# --- Auth ---------------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# --- I18N / time ----------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
FORMAT_MODULE_PATH = ["goatedvips.formats"]  # dates shown as "30 Nov 2026, 14:05" (goatedvips/formats/en)
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
# collectstatic writes here; nginx serves it (deploy/nginx.conf).
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG

# --- Email ----------------------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="GoatedVIPs <no-reply@goatedvips.local>")
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
    # Django's SMTP backend that can tell "not sent" from "may have been delivered" (notifications.email).
    EMAIL_BACKEND = "notifications.email.SmtpBackend"
# Seconds an SMTP server may take to answer (Django's default waits forever). A message whose final answer does
# not come in time may have been delivered: it is recorded "uncertain" and never sent again.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)

# --- DRF / OpenAPI ----------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes anonymous requests 401 rather than 403.
        "accounts.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Fail closed: every endpoint needs a signed-in user unless its view opts in to public access (AllowAny).
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 25,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SPECTACULAR_SETTINGS = {
    "TITLE": "GoatedVIPs API",
    "DESCRIPTION": "Wager races, leaderboards, VIP rewards and support for the GoatedVIPs community. "
    'Amounts are decimal strings; errors are `{"error": {"code", "message", "fields"?}}`.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI served from our own static files (no CDN: works offline and under a strict CSP).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Races and tickets both have a "status" field: name each choice set.
    "ENUM_NAME_OVERRIDES": {
        "RaceStatusEnum": "races.models.WagerRace.Status",
        "TicketStatusEnum": "support.models.SupportTicket.Status",
        "LeaderboardPeriodEnum": "races.feed.leaderboard.PERIODS",
    },
}

# --- Rate limits --------------------------------------------------------------------------------------------------
RATELIMIT_USE_CACHE = "default"
RATELIMIT_IP_META_KEY = "core.ratelimit.client_ip"
# How many reverse proxies we run in front of the app (0: trust only the socket address).
TRUSTED_PROXY_HOPS = env.int("TRUSTED_PROXY_HOPS", default=0)
RATELIMIT_VIEW = "goatedvips.views.ratelimited"
SILENCED_SYSTEM_CHECKS = [
    # Django's RedisCache (core.cache subclasses it) increments atomically; django-ratelimit lists only django-redis.
    "django_ratelimit.W001",
]
if EMBEDDED:
    # One process in embedded mode: a local-memory counter is exact there (not across processes).
    SILENCED_SYSTEM_CHECKS.append("django_ratelimit.E003")

# --- Integrations (contract names from docs/design.md §3) ----------------------------------------------------------
AFFILIATE_API_URL = env.str("AFFILIATE_API_URL", default="")
AFFILIATE_API_TOKEN = env.str("AFFILIATE_API_TOKEN", default="")
TELEGRAM_BOT_TOKEN = env.str("TELEGRAM_BOT_TOKEN", default="")
TELEGRAM_WEBHOOK_SECRET = env.str("TELEGRAM_WEBHOOK_SECRET", default="")
TELEGRAM_BOT_USERNAME = env.str("TELEGRAM_BOT_USERNAME", default="")
TELEGRAM_API_URL = env.str("TELEGRAM_API_URL", default="https://api.telegram.org")
REFERRAL_URL = env.str("REFERRAL_URL", default="https://www.goated.com/r/GOATEDVIPS")
# The public address of the site, for links in emails (read outside the site).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# Telegram channel where the bot posts race starts, new leaders and results (unset: no announcements).
TELEGRAM_ANNOUNCE_CHAT_ID = env.str("TELEGRAM_ANNOUNCE_CHAT_ID", default="")
# The community group the bot looks after (welcomes, /mute /unmute /ban by its admins, the flood guard); 0 = none.
# Announcements go there too when TELEGRAM_ANNOUNCE_CHAT_ID is unset.
TELEGRAM_COMMUNITY_CHAT_ID = env.int("TELEGRAM_COMMUNITY_CHAT_ID", default=0)
# Flood guard: this many messages within this many seconds from one member mutes them (once) for this long.
TELEGRAM_FLOOD_MESSAGES = env.int("TELEGRAM_FLOOD_MESSAGES", default=10)
TELEGRAM_FLOOD_SECONDS = env.int("TELEGRAM_FLOOD_SECONDS", default=5)
TELEGRAM_FLOOD_MUTE_MINUTES = env.int("TELEGRAM_FLOOD_MUTE_MINUTES", default=10)
SITE_NAME = "GoatedVIPs"

# --- Security ---------------------------------------------------------------------------------------------------
# Staff sign in to admin with a TOTP second factor (docs/security.md); on by default in production only.
STAFF_2FA = env.bool("STAFF_2FA", default=not DEBUG)
OTP_TOTP_ISSUER = "GoatedVIPs"
# API tokens expire, and are replaced on password change/reset, ban and "sign out everywhere".
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)
# Content Security Policy: no inline or third-party scripts. Inline style attributes stay allowed (tier colours,
# progress bars, Django admin); the Telegram login iframe is the one framed origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'", "ws:", "wss:"],
        "frame-src": ["https://oauth.telegram.org"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
SESSION_COOKIE_HTTPONLY = True
# Sessions are read on every signed-in request: from the cache (one Redis read), written through to the database
# (a restart of Redis loses no session).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# No script of ours reads the CSRF cookie (forms carry the token; the API docs get it in their script).
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# --- Logging ----------------------------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# One JSON object per line in production (collectors parse it), plain text in embedded mode; every line carries
# the request id (core.logs), which follows a request into the tasks it enqueues.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if EMBEDDED else "json")
LOGGING = logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)

# Error reporting (optional): with SENTRY_DSN set, exceptions of web processes and Celery tasks go to Sentry.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN, integrations=[DjangoIntegration(), CeleryIntegration()], send_default_pii=False,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
    )  # fmt: skip

HEALTH_CHECK_TIMEOUT_SECONDS = 2.0

# Retention (goatedvips.retention): days to keep each kind of row, 0 = forever; money and race archives never go.
RETENTION_TRANSFORMATION_LOG_DAYS = env.int("RETENTION_TRANSFORMATION_LOG_DAYS", default=90)
RETENTION_PROGRESS_SAMPLE_DAYS = env.int("RETENTION_PROGRESS_SAMPLE_DAYS", default=180)
RETENTION_READ_NOTIFICATION_DAYS = env.int("RETENTION_READ_NOTIFICATION_DAYS", default=90)
RETENTION_LINK_TOKEN_DAYS = env.int("RETENTION_LINK_TOKEN_DAYS", default=7)
RETENTION_AUDIT_DAYS = env.int("RETENTION_AUDIT_DAYS", default=730)
RETENTION_ARCHIVE_DIR = BASE_DIR / env.str("RETENTION_ARCHIVE_DIR", default="var/archive")  # relative: to the tree

# Feature switches (core.features): waffle's own admin pages are replaced by ours (audited, fixed set).
WAFFLE_ENABLE_ADMIN_PAGES = False

# GET /metrics (Prometheus): allowed with "Authorization: Bearer <METRICS_TOKEN>" or from these addresses.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])

# Telegram bot: outgoing broadcast pace (Telegram allows ~30 messages/s to different chats) and the per-user
# command limit (commands per minute) before the bot answers "slow down".
TELEGRAM_BROADCAST_PER_SECOND = env.float("TELEGRAM_BROADCAST_PER_SECOND", default=25.0)
# Seconds to wait for the Bot API's answer to one call (messages out of the site and the bot's replies). A message
# whose answer does not come in time may have arrived: it is recorded "uncertain" and never sent again.
TELEGRAM_SEND_TIMEOUT = env.float("TELEGRAM_SEND_TIMEOUT", default=10.0)
TELEGRAM_COMMANDS_PER_MINUTE = env.int("TELEGRAM_COMMANDS_PER_MINUTE", default=20)
# Broadcast emails sent per second at most (one SMTP connection, reused).
EMAIL_BROADCAST_PER_SECOND = env.float("EMAIL_BROADCAST_PER_SECOND", default=10.0)

# --- Payouts --------------------------------------------------------------------------------------------------
# Who pays prizes (payouts.providers): the manual provider leaves it to an operator, who marks payouts paid.
PAYOUT_PROVIDER = env.str("PAYOUT_PROVIDER", default="payouts.providers.ManualProvider")
# Four eyes on money (docs/security.md, "Separation of duties"): a payout is approved by one staff account and
# marked paid (or sent) by another. Turn off only where a single operator runs the site.
PAYOUT_FOUR_EYES = env.bool("PAYOUT_FOUR_EYES", default=True)
# A wager adjustment larger than this (either sign, in wager) waits for a second operator's approval before it
# counts in the standings; smaller ones count at once.
ADJUSTMENT_REVIEW_ABOVE = Decimal(env.str("ADJUSTMENT_REVIEW_ABOVE", default="10000"))
# Fernet key(s) for secrets stored in the database (the affiliate token): comma-separated to rotate, the first
# encrypts. Unset: derived from SECRET_KEY (check --deploy warns).
TOKEN_ENCRYPTION_KEY = env.str("TOKEN_ENCRYPTION_KEY", default="")
