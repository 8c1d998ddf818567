"""Settings read from the environment, with defaults that are safe for a local first run."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("GROUNDED_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "local-only-insecure-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "coding_app",
    "corpus",
    "analysis",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "coding_app.middleware.AccessDeniedMiddleware",
]

ROOT_URLCONF = "coding_app.urls"
WSGI_APPLICATION = "coding_app.wsgi.application"

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
            ],
        },
    },
]

# The embedded default is an SQLite file under var/; DATABASE_URL points elsewhere
# (postgres://user@host:5432/name uses psycopg 3).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'grounded.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the local worker write progress while the web server reads; IMMEDIATE
    # transactions avoid "database is locked" on lock upgrades between the two processes.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # The posts index that carries batch_id for PostgreSQL's index-only scans is a plain
    # (project, id) index here, which is all SQLite needs; no warning on every command.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Passwords are checked by a backend that refuses a username (or an address) after repeated
# failures (coding_app/auth_views.py); the counts live in the cache, which production shares.
AUTHENTICATION_BACKENDS = ["coding_app.auth_views.ThrottledModelBackend"]
GROUNDED_LOGIN_MAX_FAILURES = int(os.environ.get("GROUNDED_LOGIN_MAX_FAILURES", "5"))
# Higher than per username, so colleagues behind one address are not locked out by one typo.
GROUNDED_LOGIN_MAX_FAILURES_PER_IP = int(os.environ.get("GROUNDED_LOGIN_MAX_FAILURES_PER_IP", "20"))
GROUNDED_LOGIN_WINDOW_SECONDS = int(os.environ.get("GROUNDED_LOGIN_WINDOW_SECONDS", "900"))
# Proxies in front that append to X-Forwarded-For (0: the client is REMOTE_ADDR).
GROUNDED_TRUSTED_PROXIES = int(os.environ.get("GROUNDED_TRUSTED_PROXIES", "0"))
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise serves from here after collectstatic; in development it uses the finders.
WHITENOISE_USE_FINDERS = True
# Front-end libraries come from npm (package-lock.json) and are served from node_modules
# as they are: nothing third-party is committed and nothing loads from a CDN.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/d3", BASE_DIR / "node_modules" / "d3" / "dist"),
    ("vendor/d3-cloud", BASE_DIR / "node_modules" / "d3-cloud" / "build"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "projects-page"
LOGOUT_REDIRECT_URL = "login"

# Who may start a project from the projects page or the API (and become its admin):
# "everyone" signed in, or "staff" only. Restoring a backup is always staff only.
GROUNDED_PROJECT_CREATORS = os.environ.get("GROUNDED_PROJECT_CREATORS", "everyone")
if GROUNDED_PROJECT_CREATORS not in ("everyone", "staff"):
    raise ImproperlyConfigured(
        "GROUNDED_PROJECT_CREATORS must be 'everyone' or 'staff', "
        f"not {GROUNDED_PROJECT_CREATORS!r}."
    )

# Uploads: imports may be large; the limit is checked before a file is stored.
GROUNDED_MAX_UPLOAD_MB = int(os.environ.get("GROUNDED_MAX_UPLOAD_MB", "200"))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "coding_app.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "coding_app.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    # Several models have a "status" choice field: name each set in the schema.
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "corpus.models.JobStatus",
        "ReviewStatusEnum": "analysis.models.ReviewStatus",
    },
    "TITLE": "Grounded API",
    "DESCRIPTION": "Projects, posts, codebooks, codings and import jobs of Grounded.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Celery. With CELERY_BROKER_URL unset, jobs go through Kombu's filesystem transport
# under var/broker, consumed by the local worker that `make run` starts: no Redis is
# needed, and no long job ever runs inside a web request.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
if not CELERY_BROKER_URL:
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # Kombu's default is ./control
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "grounded")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# How often the scheduler looks for jobs left behind by a dead worker.
GROUNDED_SWEEP_SECONDS = float(os.environ.get("GROUNDED_SWEEP_SECONDS", "60"))
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-imports": {
        "task": "corpus.import_batch_sweep_stale",
        "schedule": GROUNDED_SWEEP_SECONDS,
    },
    "sweep-stale-analyses": {
        "task": "analysis.analysis_sweep_stale",
        "schedule": GROUNDED_SWEEP_SECONDS,
    },
}
# A job whose heartbeat is older than this is taken to belong to a dead worker.
GROUNDED_JOB_STALE_SECONDS = int(os.environ.get("GROUNDED_JOB_STALE_SECONDS", "120"))
# A frequency query over at least this many documents is counted in chunks of the second by
# every free worker (analysis/parallel.py).
GROUNDED_PARALLEL_MIN_DOCS = int(os.environ.get("GROUNDED_PARALLEL_MIN_DOCS", "40000"))
GROUNDED_CHUNK_DOCS = int(os.environ.get("GROUNDED_CHUNK_DOCS", "10000"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
