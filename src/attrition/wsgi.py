"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attrition.settings")
application = get_wsgi_application()

from attrition.ops.heap import heap_settle  # noqa: E402  # needs Django set up

# Each web worker imports this module once, after its fork: what it has loaded is frozen here.
heap_settle()
