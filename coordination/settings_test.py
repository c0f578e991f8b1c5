"""Test settings: the real PostgreSQL and Redis from the environment, fast hashing.

Celery runs eagerly here only; tests that need a real worker start one and
point it at the same broker (see tests/alerts).
"""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789")
os.environ.setdefault("DB_POOL", "0")

from .settings import *  # noqa: F403
from .settings import REDIS_URL

DEBUG = False
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Each test process gets its own cache prefix so parallel runs do not share throttles.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"test{os.getpid()}",
    }
}
AXES_ENABLED = True
# The suite's "partner that never answers" is the discard port on loopback; tests that start a
# real partner add its address (``settings.PUSH_ALLOWED_HOSTS``) and the SSRF tests empty the list.
PUSH_ALLOWED_HOSTS = ["127.0.0.1:9"]
LOGGING = {"version": 1, "disable_existing_loggers": False}
# A pro-rata return's 30-day notice is the subject of its own tests (tests/cases/test_return_notice.py,
# which set it back); elsewhere a return through mixing is approvable at once.
RETURN_NOTICE_DAYS = 0
