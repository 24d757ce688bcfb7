# O2D production image: gunicorn serving Django (static files through whitenoise),
# and the same image runs the Celery worker and beat (see docker-compose.yml).
#
#   docker build -t o2d .
#   docker run --rm -e SECRET_KEY=... -e DATABASE_URL=... -e CELERY_BROKER_URL=... o2d
#
# Everything the running container needs is inside the image: translations are
# compiled and static files collected at build time; no CDN, no run-time downloads.
# There is deliberately no SECRET_KEY in the image: with DEBUG=False the settings
# refuse to start until one is supplied.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# gettext: msgfmt for compilemessages. Pango, HarfBuzz subsetting and the Noto CJK
# fonts are for WeasyPrint (label and delivery-note PDFs with Chinese text).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        gettext \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

# An unprivileged user. The code stays owned by root (read-only for the app); the
# user writes only under /var/lib/o2d (its home, O2D_VAR_DIR and the media volume).
RUN groupadd --system --gid 10001 o2d \
    && useradd --system --uid 10001 --gid o2d --home-dir /var/lib/o2d \
        --shell /usr/sbin/nologin o2d \
    && mkdir -p /var/lib/o2d/media \
    && chown -R o2d:o2d /var/lib/o2d

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Compile the translation catalogues and collect static files (hashed and
# compressed by whitenoise's manifest storage, as DEBUG=False selects). The key, the
# URLs (never connected to) and the paths below exist for these two commands only;
# they are not kept in the image.
RUN export DEBUG=False \
        SECRET_KEY=build-time-only-dummy-key-not-used-at-run-time-0123456789 \
        O2D_VAR_DIR=/tmp/o2d-build \
        DATABASE_URL=sqlite:////tmp/o2d-build/unused.sqlite3 \
        CELERY_BROKER_URL=memory:// \
        CACHE_URL=redis://build-time-unused:6379/0 \
    && python manage.py compilemessages --ignore=.venv -v0 \
    && python manage.py collectstatic --noinput -v0 \
    && rm -rf /tmp/o2d-build

ENV DEBUG=False \
    O2D_VAR_DIR=/var/lib/o2d \
    MEDIA_ROOT=/var/lib/o2d/media \
    STATIC_ROOT=/app/staticfiles \
    WEB_CONCURRENCY=3 \
    # matplotlib (the charts) keeps its font cache here: the app's user may write it.
    MPLCONFIGDIR=/var/lib/o2d/matplotlib

USER o2d:o2d
EXPOSE 8000

# gunicorn's settings (bind, logs, no Server header) are in o2d/gunicorn_conf.py; it
# takes its number of workers from WEB_CONCURRENCY.
CMD ["gunicorn", "-c", "python:o2d.gunicorn_conf", "o2d.wsgi"]
