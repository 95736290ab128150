"""WSGI entry point (gunicorn reexapi.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reexapi.settings")
application = get_wsgi_application()
