"""WSGI entry point (gunicorn sdgscore.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdgscore.settings")

application = get_wsgi_application()
