"""gunicorn's settings for attrition's web processes: `gunicorn -c python:attrition.gunicorn_conf`.

`attrition serve` runs gunicorn with this file; it can also be given to gunicorn directly. Options
on gunicorn's command line (such as `--bind`) override these.
"""

from __future__ import annotations

# Every public name here is read as a gunicorn setting (one is called `config`): import privately.
from attrition.config import WEB_WORKERS as _WEB_WORKERS

wsgi_app = "attrition.wsgi:application"
bind = ["127.0.0.1:8000"]
workers = _WEB_WORKERS.read()
# Sync workers: each request has a process of its own; the reverse proxy buffers slow clients.
worker_class = "sync"
timeout = 60
graceful_timeout = 20
keepalive = 5
# A worker is replaced after this many requests, so that no slow leak grows without end.
max_requests = 2000
max_requests_jitter = 200
# X-Forwarded-* headers are believed only from a proxy on this machine (gunicorn's default);
# set FORWARDED_ALLOW_IPS, gunicorn's own variable, to the proxy's address when it runs elsewhere.
proc_name = "attrition-web"
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
# Its control socket would live in ~/.gunicorn and clash between instances on one machine.
control_socket_disable = True
