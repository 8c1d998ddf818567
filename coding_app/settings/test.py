"""Test settings: PostgreSQL and Redis from the environment (see Makefile), fast hashing."""

from .base import *  # noqa: F403
from .base import VAR_DIR

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "test-media"
# Unit and service tests run tasks inline; the integration fixture switches a real worker on.
CELERY_TASK_ALWAYS_EAGER = True
# Nothing is kept between requests, so one test's failed logins never lock another test's
# users out; the login throttling tests switch a real cache on.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
