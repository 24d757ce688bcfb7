"""O2D settings, read from the environment (django-environ).

The defaults run the demo on one machine with nothing else installed: SQLite and a
Celery broker on the filesystem. Production sets DEBUG=False, SECRET_KEY, DATABASE_URL
(PostgreSQL), CELERY_BROKER_URL (Redis) and CACHE_URL (Redis); see docker-compose.yml.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)
VAR_DIR = Path(env.str("O2D_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str(
    "SECRET_KEY",
    default="dev-only-insecure-key-never-use-in-production" if DEBUG else environ.Env.NOTSET,
)
if not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 random characters in production.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # modeltranslation must come before django.contrib.admin.
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_celery_beat",
    "django_countries",
    "axes",
    "orders",
    "warehouse",
    "logistics",
    "finance",
    "feedback",
    # The project package: commands that need every app (seed_demo) live here, so that
    # orders never imports a department app.
    "o2d",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A request whose database connection failed answers 503 "try again", not 500.
    "o2d.middleware.DatabaseFaultMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "o2d.urls"
WSGI_APPLICATION = "o2d.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "o2d.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    # Production must name its database; only development falls back to SQLite.
    "default": env.db(
        "DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}" if DEBUG else environ.Env.NOTSET,
    ),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections in production (a new PostgreSQL connection per request
# costs about as much as placing an order); checked before reuse.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0 if DEBUG else 60)
# Behind PgBouncer in transaction pooling mode a cursor cannot outlive its transaction:
# Django must not use server-side cursors (QuerySet.iterator()).
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("O2D_PGBOUNCER", default=False)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Every query of a page reads a few thousand rows at most: compiling it (JIT) or
# starting parallel workers costs more than it saves (30-50 ms on a dashboard at a
# million orders), and parallel workers would take the cores the web workers need.
# The hot data is in memory or on SSD, where a random read costs little more than a
# sequential one (PostgreSQL's default of 4 assumes spinning disks and made the
# warehouse dashboard hash a million fulfilments instead of looking up 3,500: 265 ms
# against 31 ms).
# PgBouncer does not pass these options on: set them with ALTER ROLE there instead
# (docs/scaling.md).
O2D_DB_SESSION_OPTIONS = env.str(
    "O2D_DB_SESSION_OPTIONS",
    default="-c jit=off -c max_parallel_workers_per_gather=0 -c random_page_cost=1.1",
)
if (
    DATABASES["default"]["ENGINE"].endswith("postgresql")
    and O2D_DB_SESSION_OPTIONS
    and not env.bool("O2D_PGBOUNCER", default=False)
):
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = O2D_DB_SESSION_OPTIONS
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo runs web, worker and beat against one SQLite file: wait for locks
    # instead of failing, and take the write lock at the start of a transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache backs rate limiting (django-ratelimit). Production must share it between
# every web worker and container (Redis): a limit counted in one worker's memory is no
# limit, so with DEBUG=False CACHE_URL has no default and a per-process cache is refused.
CACHES = {
    "default": env.cache_url(
        "CACHE_URL", default="locmemcache://o2d" if DEBUG else environ.Env.NOTSET
    )
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "o2d.cache.RedisCache"  # one client per pool (o2d/cache.py)
if not DEBUG and CACHES["default"]["BACKEND"] in (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
):
    raise ImproperlyConfigured(
        "CACHE_URL must name a cache shared by all processes in production, e.g. "
        "redis://redis:6379/1, not a local-memory or dummy cache: rate limits counted "
        "in one process's memory are no limits."
    )

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes watches both sign-in pages (staff and admin): it counts failed attempts
# only, per account and per client address, and refuses either once it reaches the
# limit until the cool-off passes or an admin deletes the lockout (Axes > Access
# attempts). Attempts are stored in the database, so every web worker sees them.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("O2D_LOGIN_FAILURE_LIMIT", default=10)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=env.int("O2D_LOGIN_COOLOFF_MINUTES", default=15))
# A failure while locked out must not prolong the lockout forever (an attacker who
# keeps guessing would otherwise keep the real user out).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "o2d.views.locked_out"
AXES_USERNAME_CALLABLE = "o2d.views.axes_username"
# Only a proxy of our own may say who the client is (see BEHIND_TLS_PROXY below).
AXES_CLIENT_IP_CALLABLE = "o2d.proxy.remote_addr"
if env.bool("BEHIND_TLS_PROXY", default=False):
    AXES_CLIENT_IP_CALLABLE = "o2d.proxy.client_ip"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Internationalisation: Simplified Chinese, Traditional Chinese and English.
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [
    ("zh-hans", _("Simplified Chinese")),
    ("zh-hant", _("Traditional Chinese")),
    ("en", _("English")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = {"default": ("en",), "zh-hant": ("zh-hans", "en")}

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"
# Media files (email orders' evidence, customers' problem photos): the local disk by
# default; with several web or worker machines, an S3-compatible store they all share
# (django-storages). The files stay private: the app streams each one to the staff
# allowed to see it, so the bucket needs no public access and URLs are never handed out.
O2D_MEDIA_STORAGE = env.str("O2D_MEDIA_STORAGE", default="local")
if O2D_MEDIA_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("O2D_S3_BUCKET"),
            "endpoint_url": env.str("O2D_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("O2D_S3_REGION", default=None),
            "access_key": env.str("O2D_S3_ACCESS_KEY", default=None),
            "secret_key": env.str("O2D_S3_SECRET_KEY", default=None),
            "location": env.str("O2D_S3_PREFIX", default="media"),
            "default_acl": "private",
            "file_overwrite": False,
        },
    }
elif O2D_MEDIA_STORAGE != "local":
    raise ImproperlyConfigured('O2D_MEDIA_STORAGE must be "local" or "s3".')

# Email: the console backend for the demo; SMTP settings come from EMAIL_URL.
_email = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="O2D <orders@o2d.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Public links in emails and on labels are built from this base.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Celery: the filesystem transport needs no server; production uses Redis.
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default="filesystem://" if DEBUG else environ.Env.NOTSET
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
# Without a result backend there is nothing for beat's daily cleanup task to expire.
CELERY_RESULT_EXPIRES = None if CELERY_RESULT_BACKEND is None else 86400
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
if CELERY_BROKER_URL.startswith(("redis://", "rediss://", "redis+socket://")):
    # Redis hands a message that a worker took but never acknowledged to another worker
    # after this many seconds. Tasks are acknowledged late, so the task of a worker that
    # died is run again; the default of an hour would leave it waiting that long. It
    # must exceed the longest task (an email send is cut off after 90 s) and the longest
    # countdown (email retries wait at most 5 minutes, and Redis counts a task waiting
    # for its countdown as unacknowledged), or a task would run twice while it is
    # still running or waiting. Emails survive that anyway (they are claimed).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600)
    }
# Separate queues, so that a burst of emails never delays the deadline sweeps and the
# reverse: set O2D_EMAIL_QUEUE and O2D_SWEEP_QUEUE and start workers with -Q for each
# (docker-compose.yml: "worker" takes the sweeps and the rest, "mailer" the emails).
# Unset, every task goes to the default queue and one worker takes all.
O2D_EMAIL_QUEUE = env.str("O2D_EMAIL_QUEUE", default="")
O2D_SWEEP_QUEUE = env.str("O2D_SWEEP_QUEUE", default="")
EMAIL_TASKS = ["orders.tasks.send_customer_email"]
SWEEP_TASKS = [
    "orders.tasks.sweep_deadlines",
    "orders.tasks.requeue_unsent_emails",
    "feedback.tasks.auto_confirm_receipts",
    "feedback.tasks.send_surveys",
    "finance.tasks.escalate_closing_requests",
    "orders.tasks.send_review_packs",
]
CELERY_TASK_ROUTES = {
    **({name: {"queue": O2D_EMAIL_QUEUE} for name in EMAIL_TASKS} if O2D_EMAIL_QUEUE else {}),
    **({name: {"queue": O2D_SWEEP_QUEUE} for name in SWEEP_TASKS} if O2D_SWEEP_QUEUE else {}),
}
# An unsent email nobody is sending is queued again by the deadline sweep (every minute)
# once it is this old (seconds): the broker was down, or its worker died.
O2D_EMAIL_REQUEUE_AFTER_SECONDS = env.int("O2D_EMAIL_REQUEUE_AFTER_SECONDS", default=120)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }

# Content-Security-Policy on every response (django-csp): scripts, styles, images and
# fonts from this site only; no inline script or style (the pages have none; htmx is
# told not to inject its indicator style), no plugins, no framing, forms post here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs every rendering step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Public order form: submissions allowed per client address (django-ratelimit syntax).
O2D_ONLINE_ORDER_RATE = env.str("O2D_ONLINE_ORDER_RATE", default="10/10m")
# Customers finding their order by number and email or phone, and sending delivery
# change requests from the status page: attempts per client address.
O2D_LOOKUP_RATE = env.str("O2D_LOOKUP_RATE", default="10/10m")
# Receipt answers and problem reports from the status page, per client address.
O2D_RECEIPT_RATE = env.str("O2D_RECEIPT_RATE", default="20/10m")
if env.bool("BEHIND_TLS_PROXY", default=False):
    # The proxy appends the client address last; earlier entries may be forged.
    RATELIMIT_IP_META_KEY = "o2d.proxy.client_ip"
# Days from confirmation to delivery offered to customers who confirm online.
O2D_DELIVERY_LEAD_DAYS = env.int("O2D_DELIVERY_LEAD_DAYS", default=3)
# How long the confirmation link in the order-received email stays valid.
O2D_CONFIRM_LINK_DAYS = env.int("O2D_CONFIRM_LINK_DAYS", default=7)

# How often the dashboards refresh their counts (seconds).
O2D_DASHBOARD_REFRESH_SECONDS = env.int("O2D_DASHBOARD_REFRESH_SECONDS", default=10)
