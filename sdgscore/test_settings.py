"""Settings for the test suite: the real settings with a fixed key and fast hashing."""

import os

# Tests run the production settings (DEBUG off), whatever a developer's .env says.
os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x" * 40)

from sdgscore.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SECURE_SSL_REDIRECT = False
