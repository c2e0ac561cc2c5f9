"""WSGI entry point (gunicorn sdgscore.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdgscore.settings")

application = get_wsgi_application()

from projects.checks import log_startup_warnings  # noqa: E402 (Django is set up above)

log_startup_warnings()
