"""gunicorn's configuration for the production image (``gunicorn -c python:o2d.gunicorn_conf``).

The number of workers comes from WEB_CONCURRENCY (gunicorn reads it itself); "-" logs
to stdout. gunicorn writes a ``Server: gunicorn`` header on every response and has no
setting for it: naming the server and its version only helps an attacker pick an
exploit, so the header is left out here.
"""

from gunicorn.http import wsgi

bind = "0.0.0.0:8000"
accesslog = "-"
errorlog = "-"

_default_headers = wsgi.Response.default_headers


def _headers_without_server(self):
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


wsgi.Response.default_headers = _headers_without_server
