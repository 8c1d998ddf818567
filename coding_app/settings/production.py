"""Production: hardened, and the secrets and services must be given (no defaults)."""

import os

from .base import *  # noqa: F403
from .base import env_bool


def required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"{name} must be set in production (see .env.example)")
    return value


SECRET_KEY = required("DJANGO_SECRET_KEY")
required("DATABASE_URL")
_broker = required("CELERY_BROKER_URL")
DEBUG = False

# Login throttling counts failures in the cache, which every web process must share:
# CACHE_URL, or else the broker's Redis (keys are prefixed, so they do not meet Celery's).
_cache_url = os.environ.get("CACHE_URL") or (_broker if _broker.startswith("redis") else "")
if not _cache_url.startswith(("redis://", "rediss://")):
    raise RuntimeError("CACHE_URL must name a Redis server in production (see .env.example)")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _cache_url,
        "KEY_PREFIX": "grounded",
    }
}
# The TLS proxy in front (see README) appends the client's address to X-Forwarded-For.
GROUNDED_TRUSTED_PROXIES = int(os.environ.get("GROUNDED_TRUSTED_PROXIES", "1"))

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
