"""WSGI entry point (gunicorn coding_app.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coding_app.settings.local")
application = get_wsgi_application()
