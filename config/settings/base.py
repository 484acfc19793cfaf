"""Settings for every environment, read from environment variables.

With nothing set the platform runs embedded (SQLite, in-memory channel layer,
eager Celery) so that a bare machine can run `make demo`. DATABASE_URL and
REDIS_URL switch to PostgreSQL and Redis.
"""

import warnings
from pathlib import Path

import environ
from celery.schedules import crontab
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
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
    "insights-send-reports": {
        "task": "apps.insights.tasks.send_due_reports",
        "schedule": crontab(minute=5),
    },
}

# Raw readings are kept this long (whole monthly partitions on PostgreSQL); rollups stay.
TELEMETRY_RAW_RETENTION_DAYS = env.int("TELEMETRY_RAW_RETENTION_DAYS", default=90)

# EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587; by default mail is printed.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="HEB Platform <noreply@localhost>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
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
