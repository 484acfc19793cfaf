"""Settings for every environment, read from environment variables.

With nothing set the platform runs embedded (SQLite, in-memory channel layer,
eager Celery) so that a bare machine can run `make demo`. DATABASE_URL and
REDIS_URL switch to PostgreSQL and Redis.
"""

import warnings
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Only the embedded/dev default has a throwaway key; production.py demands a real one.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-embedded-default-change-me")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",  # runserver serves ASGI (HTTP and WebSockets) in development
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "channels",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "apps.core",
    "apps.tenants",
    "apps.accounts",
    "apps.households",
    "apps.fleet",
    "apps.devices",
    "apps.telemetry",
    "apps.tariffs",
    "apps.energy",
    "apps.live",
    "apps.scheduling",
    "apps.insights",
    "apps.forecasting",
    "apps.privacy",
    "apps.portal",
    "apps.console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified()
    "apps.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "apps.accounts.middleware.MfaRequiredMiddleware",
    "apps.accounts.middleware.StaffAuditMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the locked-out page
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "apps.accounts.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves several writers at once (the demo's virtual boxes): take
    # the write lock when a transaction begins and wait for it, instead of failing with
    # "database is locked" when two transactions both try to upgrade; WAL lets reads go on.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "apps.accounts.backends.LockoutBackend",  # first: refuses locked-out logins (django-axes)
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Argon2 first: new and upgraded passwords are hashed with it.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "login"

# Login lockout (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for a username (one
# account guessed from many addresses) or from an address (many accounts tried from one), logins
# are refused for LOGIN_COOLOFF_MINUTES (a page saying so, status 429); a success resets.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "apps.accounts.views.locked_out"
AXES_DISABLE_ACCESS_LOG = True  # successful logins go to the staff audit log instead
AXES_VERBOSE = False
# A wrong API token from one address this often within the cool-off answers 429.
API_TOKEN_FAILURE_LIMIT = env.int("API_TOKEN_FAILURE_LIMIT", default=20)

# TOTP (django-otp): required for STAFF_ROLES; optional for households, but whoever has a
# device verifies it at login, and load control asks again after MFA_STEP_UP_MINUTES.
OTP_TOTP_ISSUER = "HEB Platform"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
MFA_STEP_UP_MINUTES = env.int("MFA_STEP_UP_MINUTES", default=10)
# Paths outside the MFA gate: the gateways' signed agent API has no browser session.
MFA_EXEMPT_PATH_PREFIXES = ["/api/agent/"]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("nl", _("Dutch")), ("it", _("Italian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"  # stored in UTC; shown in the household's zone
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# In development static files come from the finders; collectstatic fills STATIC_ROOT for production.
WHITENOISE_USE_FINDERS = DEBUG

# Content-Security-Policy (django-csp): our own origin only, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],  # the live page's WebSocket (same origin)
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise, before collectstatic

REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Staff get an alarm when a household overloads this often (an undersized contract).
OVERLOAD_ALARM_EPISODES = env.int("OVERLOAD_ALARM_EPISODES", default=3)
OVERLOAD_ALARM_WINDOW_HOURS = env.int("OVERLOAD_ALARM_WINDOW_HOURS", default=24)

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
# Without a broker, tasks run in-process so the embedded default needs no services.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "expire-installer-assignments": {
        "task": "apps.households.tasks.expire_installer_assignments",
        "schedule": 15 * 60,
    },
    "telemetry-ensure-partitions": {
        "task": "apps.telemetry.tasks.ensure_partitions",
        "schedule": 6 * 60 * 60,
    },
    "telemetry-enforce-retention": {
        "task": "apps.telemetry.tasks.enforce_retention",
        "schedule": 24 * 60 * 60,
    },
    "energy-rollup-recent": {
        "task": "apps.energy.tasks.rollup_recent",
        "schedule": 5 * 60,
    },
    # Each household's local tomorrow, once the day's production is rolled up; a second
    # run later is a cheap safety net (a re-issued forecast replaces the first).
    "forecasting-day-ahead": {
        "task": "apps.forecasting.tasks.forecast_day_ahead_all",
        "schedule": crontab(minute=30, hour="16,20"),
    },
    # After the day-ahead forecasts and prices: move plans that became cheaper elsewhere.
    "scheduling-plan-fleet": {
        "task": "apps.scheduling.tasks.plan_fleet",
        "schedule": crontab(minute=0, hour=17),
    },
    "forecasting-intraday": {
        "task": "apps.forecasting.tasks.forecast_intraday_all",
        "schedule": crontab(minute="0,30"),
    },
    # Fifteen minutes after each intraday forecast, the next hours' plans follow it.
    "scheduling-refresh-plans": {
        "task": "apps.scheduling.tasks.refresh_plans_due",
        "schedule": crontab(minute="15,45"),
    },
    # Every hour: the reports of the households where it is now 07:xx (to 11:xx, catching up).
    "insights-refresh-tips": {  # each household's tips once a day, spread over the hours
        "task": "apps.insights.tasks.refresh_stale_tips",
        "schedule": crontab(minute=35),
    },
    "insights-send-reports": {
        "task": "apps.insights.tasks.send_due_reports",
        "schedule": crontab(minute=5),
    },
    # Nightly, off-peak: delete what is older than the privacy retention limits.
    "privacy-enforce-retention": {
        "task": "apps.privacy.tasks.enforce_retention",
        "schedule": crontab(minute=40, hour=3),
    },
}

# Raw readings are kept this long (whole monthly partitions on PostgreSQL); rollups stay.
TELEMETRY_RAW_RETENTION_DAYS = env.int("TELEMETRY_RAW_RETENTION_DAYS", default=90)

# EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587; by default mail is printed.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="HEB Platform <noreply@localhost>")

# Where the portal is reached from outside: the report emails link to their page there.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Third parties' tokens; first, so that a refused token answers 401 (DRF asks the
        # first class for the WWW-Authenticate header). Without a Bearer header it passes.
        "apps.accounts.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "apps.accounts.api.permissions.TokenHasScope",  # a token reads only what it is scoped to
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "HEB Platform API",
    "DESCRIPTION": "Home Energy Box platform: tenants, households, gateways and devices.",
    "VERSION": "1.0.0",
    # 3.1 is JSON Schema 2020-12, what msgspec generates for the agent protocol.
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Several serializers have a "role": name the two choice sets instead of hashed names.
    "ENUM_NAME_OVERRIDES": {
        "UserRoleEnum": "apps.core.permissions.Role",
        "MembershipRoleEnum": "apps.households.models.MembershipRole",
    },
    # The API map is for signed-in users, not for anyone probing the platform.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Offline Swagger UI: the assets come from drf-spectacular-sidecar, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.fleet.api.agent.schema.add_protocol_components",
    ],
}

# Gateways and their link (see apps/fleet/secrets.py and the agent API).
GATEWAY_SECRET_KEYS = env.list("GATEWAY_SECRET_KEYS", default=[])
GATEWAY_CLAIM_WINDOW_HOURS = env.int("GATEWAY_CLAIM_WINDOW_HOURS", default=24)
GATEWAY_KEY_ROTATION_OVERLAP_HOURS = env.int("GATEWAY_KEY_ROTATION_OVERLAP_HOURS", default=24)
AGENT_RATE_LIMIT = env("AGENT_RATE_LIMIT", default="120/min")  # per gateway
AGENT_PROVISION_RATE_LIMIT = env("AGENT_PROVISION_RATE_LIMIT", default="30/hour")  # per address

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # no guardian anonymous user: anonymous access fails closed

# How long an installer keeps access to a household after being assigned.
INSTALLER_ASSIGNMENT_DAYS = env.int("INSTALLER_ASSIGNMENT_DAYS", default=14)
INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=7)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
}

# Privacy: retention limits (days; apps/privacy/retention.py deletes older rows daily).
# Raw readings: TELEMETRY_RAW_RETENTION_DAYS above. Daily and monthly rollups, consent
# decisions and their history (proof of consent, GDPR art. 7(1)) live as long as the household.
# 15-minute and hourly rollups: three years covers two yearly bills and their disputes,
# and year-on-year comparisons; older load curves reveal habits and serve nobody.
PRIVACY_RETENTION_FINE_ROLLUP_DAYS = env.int("PRIVACY_RETENTION_FINE_ROLLUP_DAYS", default=3 * 365)
# Who read the household's data: two years, long enough to notice and contest a read.
PRIVACY_RETENTION_ACCESS_LOG_DAYS = env.int("PRIVACY_RETENTION_ACCESS_LOG_DAYS", default=2 * 365)
# Notifications are news: a year.
PRIVACY_RETENTION_NOTIFICATION_DAYS = env.int("PRIVACY_RETENTION_NOTIFICATION_DAYS", default=365)
# Overload episodes and the guard's sheds: two years, to show a contract is undersized.
PRIVACY_RETENTION_OVERLOAD_DAYS = env.int("PRIVACY_RETENTION_OVERLOAD_DAYS", default=2 * 365)
# Forecasts only serve the next days and their accuracy check: six months.
PRIVACY_RETENTION_FORECAST_DAYS = env.int("PRIVACY_RETENTION_FORECAST_DAYS", default=183)
# Finished plans and box commands: a bit over a year, for the yearly savings summary.
PRIVACY_RETENTION_PLAN_DAYS = env.int("PRIVACY_RETENTION_PLAN_DAYS", default=400)
# Which reports were sent (de-duplication of sends): two years.
PRIVACY_RETENTION_SENT_REPORT_DAYS = env.int("PRIVACY_RETENTION_SENT_REPORT_DAYS", default=2 * 365)
# An invitee's email once the invitation has expired: three months.
PRIVACY_RETENTION_INVITATION_DAYS = env.int("PRIVACY_RETENTION_INVITATION_DAYS", default=90)
# Upload bookkeeping (batch ids against re-sends): the raw readings' lifetime plus a month.
PRIVACY_RETENTION_UPLOAD_LOG_DAYS = env.int(
    "PRIVACY_RETENTION_UPLOAD_LOG_DAYS", default=TELEMETRY_RAW_RETENTION_DAYS + 31
)
