"""Settings for Openjourney Studio, read from the environment with local defaults.

Every variable read here is listed in ``.env.example``.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from kombu import Queue

from studio.env import (
    env_bool,
    env_choice,
    env_instance,
    env_int,
    env_json,
    env_list,
    env_mapping,
    env_secret_key,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("STUDIO_DATA_DIR", str(BASE_DIR / "var"))).resolve()
# This installation's name on a Redis it may share with others (two checkouts on one
# machine both find 127.0.0.1:6379): its queues, control and event exchanges, live-update
# channels and keys are all named after it. Default: a hash of the data folder's path.
# Every process of one installation must agree: set it where they run on several machines.
STUDIO_INSTANCE = env_instance("STUDIO_INSTANCE", DATA_DIR)

# Debug by default for developers' tools (manage.py, the tests, a server started by
# hand); `make run` and the Docker image run with DEBUG=0 unless told otherwise
# (docs/security.md). Outside debug every secret must be given.
DEBUG = env_bool("DEBUG", True)
# SECRET_KEY, else the key kept in SECRET_KEY_FILE (default: the data folder's
# secret-key, which `make run` generates on first start, or debug on first use).
SECRET_KEY = env_secret_key(
    "SECRET_KEY",
    key_file=Path(env_str("SECRET_KEY_FILE", str(DATA_DIR / "secret-key"))),
    debug=DEBUG,
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
PORT = env_int("PORT", 8000)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Widget templates from the project's templates/ first (FORM_RENDERER below).
    "django.forms",
    "django_htmx",
    "template_partials",
    "accounts",
    "studio",
    "jobs",
    "gallery",
    "teams",
    "create",
    "engine",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # No inline scripts anywhere: script-src 'self' (studio/middleware.py).
    "studio.middleware.ContentSecurityPolicyMiddleware",
    # WhiteNoise's, able to run in the ASGI server's async chain (studio/middleware.py).
    "studio.middleware.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a signed-in user unless its view says otherwise.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Who acts, for team activity written from signals (teams/middleware.py).
    "teams.middleware.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "studio.urls"
WSGI_APPLICATION = "studio.wsgi.application"
ASGI_APPLICATION = "studio.asgi.application"

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
                "studio.context_processors.studio",
            ],
            # {% partialdef %} everywhere, without a {% load %} in every template.
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

# Form widgets render through TEMPLATES, so templates/django/forms/ can replace Django's own
# (a select without an include per option: templates/django/forms/widgets/select.html).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# SQLite under the data folder by default; DATABASE_URL switches to PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'studio.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DATABASE_POOL", False
):
    # An ASGI server serves each request on a thread of its own, so a connection cannot
    # outlive its request (CONN_MAX_AGE) and every page would open one: a backend forked
    # by PostgreSQL, milliseconds each. The web servers keep a pool instead (the Procfile
    # and compose set this for them); checked before use, so one cut by a restart of the
    # database is replaced, not handed out.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": env_int("DATABASE_POOL_SIZE", 8),
        "timeout": 10,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A fresh checkout has no data folder yet; SQLite would fail with a vague error.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Web and worker processes write at once: WAL and immediate transactions avoid
    # "database is locked" under that load.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not memory: test workers and live servers run in other threads (and the
    # browser tests' server in another process). One per test run, so runs side by side
    # don't share it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-studio-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "studio:home"
LOGOUT_REDIRECT_URL = "accounts:login"
SIGNUP_OPEN = env_bool("SIGNUP_OPEN", True)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))

_media_backend: dict = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if env_str("S3_BUCKET"):
    # Optional scale-out: `pip install .[s3]`; credentials come from the usual AWS_* variables.
    _media_backend = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("S3_BUCKET"),
            "endpoint_url": env_str("S3_ENDPOINT_URL"),
            "region_name": env_str("S3_REGION"),
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
STORAGES = {
    "default": _media_backend,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Redis carries Celery's messages (and, later, live updates).
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One queue for every task, named after the installation: a shared "celery" queue let the
# workers of two studios on one Redis run each other's tasks.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", STUDIO_INSTANCE)
# Remote control (ping, shutdown, revoke) and worker events stay within the installation:
# Celery's default exchanges ("celery.pidbox", "celeryev") reach every worker on the Redis.
CELERY_CONTROL_EXCHANGE = STUDIO_INSTANCE
CELERY_EVENT_EXCHANGE = f"{STUDIO_INSTANCE}.events"
# The follower has a queue of its own, so a backlog of saves never delays polling; the
# engine's jobs may have workers of their own (ENGINE_QUEUE), as a separate service would.
FOLLOW_QUEUE = env_str("FOLLOW_QUEUE", f"{CELERY_TASK_DEFAULT_QUEUE}.follow")
ENGINE_QUEUE = env_str("ENGINE_QUEUE", CELERY_TASK_DEFAULT_QUEUE)
# The engine's utility jobs fetch image links (up to ENGINE_FETCH_TIMEOUT each): on a queue
# of their own, with a worker of their own (`make run`'s "utilities"), a slow link never
# holds a worker that generates. A worker without -Q consumes it too.
ENGINE_UTILITY_QUEUE = env_str("ENGINE_UTILITY_QUEUE", f"{ENGINE_QUEUE}.utilities")
CELERY_TASK_ROUTES = {
    "engine.tasks.run_utility_job": {"queue": ENGINE_UTILITY_QUEUE},
    "engine.tasks.*": {"queue": ENGINE_QUEUE},
    "jobs.tasks.follow_jobs": {"queue": FOLLOW_QUEUE},
}
# A worker started without -Q consumes all of these. Each queue is bound by its own name:
# without it Celery binds them all to the default key, and every message reaches each.
CELERY_TASK_QUEUES = [
    Queue(name, routing_key=name)
    for name in dict.fromkeys(
        [CELERY_TASK_DEFAULT_QUEUE, FOLLOW_QUEUE, ENGINE_QUEUE, ENGINE_UTILITY_QUEUE]
    )
]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only once done, so a killed worker's task runs again.
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {
    "engine-requeue-stale-jobs": {"task": "engine.tasks.requeue_stale_jobs", "schedule": 30.0},
    # Output files past ENGINE_OUTPUT_TTL (engine/delivery.py).
    "engine-remove-expired-outputs": {
        "task": "engine.tasks.remove_expired_outputs",
        "schedule": 600.0,
    },
    "jobs-reconcile": {
        "task": "jobs.tasks.reconcile_jobs",
        "schedule": float(env_int("JOBS_RECONCILE_SECONDS", 10)),
    },
    # Restarts the follower chain if its message was lost; a no-op while it runs.
    "jobs-follow": {"task": "jobs.tasks.follow_jobs", "schedule": 5.0},
    # Files a killed worker wrote without their row (gallery/services.py).
    "gallery-remove-orphan-files": {
        "task": "gallery.tasks.remove_orphan_image_files",
        "schedule": 3600.0,
    },
}

# Caches: the default one is per process (the API's health badge); rate limits are counted
# in Redis, so that every web process counts together (studio/lib/ratelimit.py).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_str("RATELIMIT_REDIS_URL", REDIS_URL),
        "KEY_PREFIX": STUDIO_INSTANCE,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    },
}
RATELIMIT_CACHE = "ratelimit"
# Submits (create forms, re-runs, variations, retries) per user per window (0: no limit).
SUBMIT_RATE_LIMIT = env_int("SUBMIT_RATE_LIMIT", 30)
SUBMIT_RATE_WINDOW = env_int("SUBMIT_RATE_WINDOW", 60)
# Failed sign-ins per username, and per client address, per window; then sign-in waits.
LOGIN_RATE_LIMIT = env_int("LOGIN_RATE_LIMIT", 10)
LOGIN_IP_RATE_LIMIT = env_int("LOGIN_IP_RATE_LIMIT", 50)
LOGIN_RATE_WINDOW = env_int("LOGIN_RATE_WINDOW", 900)
# Proxies in front of the studio that append to X-Forwarded-For (0: none, the client is
# REMOTE_ADDR). The per-address limits read the client's address through them.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# The Openjourney API the studio calls: the project's own engine unless configured.
OPENJOURNEY_API_URL = env_str("OPENJOURNEY_API_URL", f"http://127.0.0.1:{PORT}/engine").rstrip("/")
OPENJOURNEY_API_TOKEN = env_str("OPENJOURNEY_API_TOKEN")
if OPENJOURNEY_API_TOKEN is None and env_str("OPENJOURNEY_API_TOKEN_FILE"):
    # A secret file (Docker's convention), e.g. the token `ensure_studio_token` wrote.
    _token_file = Path(env_str("OPENJOURNEY_API_TOKEN_FILE"))
    OPENJOURNEY_API_TOKEN = _token_file.read_text().strip() if _token_file.exists() else None
# Seconds to wait for each answer of the API (a submit that takes longer is reconciled
# by its Idempotency-Key, not repeated).
OPENJOURNEY_TIMEOUT = env_int("OPENJOURNEY_TIMEOUT", 20)
# Key for the teams' own API tokens, encrypted at rest (teams/crypto.py); unset: derived
# from SECRET_KEY, so changing SECRET_KEY means the team owners enter their tokens again.
TEAM_TOKEN_KEY = env_str("TEAM_TOKEN_KEY")

# Following jobs: sweeps poll due jobs in batches, never above this many polls a second.
FOLLOW_MAX_POLLS_PER_SECOND = env_int("FOLLOW_MAX_POLLS_PER_SECOND", 200)
FOLLOW_BATCH = env_int("FOLLOW_BATCH", 100)
FOLLOW_CONCURRENCY = env_int("FOLLOW_CONCURRENCY", 8)
FOLLOW_MAX_INTERVAL = env_int("FOLLOW_MAX_INTERVAL", 5)
FOLLOW_DEADLINE_SECONDS = env_int("FOLLOW_DEADLINE_SECONDS", 1800)
# Queued, submitting or saving jobs untouched this long are taken up again.
JOBS_STALE_SECONDS = env_int("JOBS_STALE_SECONDS", 60)
STUDIO_MAX_RESULT_BYTES = env_int("STUDIO_MAX_RESULT_BYTES", 64 * 1024 * 1024)
# Seconds a result's download may take in all, however slowly it arrives (then it fails).
STUDIO_RESULT_TIMEOUT = env_int("STUDIO_RESULT_TIMEOUT", 120)
STUDIO_MAX_UPLOAD_BYTES = env_int("STUDIO_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
STUDIO_MAX_UPLOAD_PIXELS = env_int("STUDIO_MAX_UPLOAD_PIXELS", 40_000_000)
# Where the hosted API can fetch the studio's signed media links (https://studio.example.com).
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "")

# The engine: the project's own Openjourney-compatible API under /engine/.
ENGINE_MAX_ACTIVE_JOBS = env_int("ENGINE_MAX_ACTIVE_JOBS", 24)
# Image links the engine may fetch although they resolve to a private or loopback address:
# exact origins, e.g. "http://127.0.0.1:9000".
ENGINE_FETCH_ALLOWED_ORIGINS = env_list("ENGINE_FETCH_ALLOWED_ORIGINS", [])
ENGINE_FETCH_MAX_BYTES = env_int("ENGINE_FETCH_MAX_BYTES", 20 * 1024 * 1024)
ENGINE_FETCH_TIMEOUT = env_int("ENGINE_FETCH_TIMEOUT", 15)
ENGINE_MAX_IMAGE_PIXELS = env_int("ENGINE_MAX_IMAGE_PIXELS", 40_000_000)
# Output files are a delivery cache: a job's `output` is a signed link valid this many
# seconds (a new one with each GET of the job; the owner's token needs none), and the file
# is removed once the client deletes it (the studio does, once stored) or after the TTL.
ENGINE_OUTPUT_LINK_SECONDS = env_int("ENGINE_OUTPUT_LINK_SECONDS", 900)
ENGINE_OUTPUT_TTL = env_int("ENGINE_OUTPUT_TTL", 24 * 3600)
# Faults on purpose, for reliability tests: a JSON list, see docs/engine.md.
ENGINE_FAULTS = env_json("ENGINE_FAULTS", [])
# A job not finished this many seconds after its last change is handed to a worker again.
ENGINE_STALE_JOB_SECONDS = env_int("ENGINE_STALE_JOB_SECONDS", 120)
# The diffusers backend (pip install '.[diffusers]'; docs/diffusers.md): endpoints mapped to
# local pipeline folders run real models; the others keep the built-in renderer. Patterns
# over endpoint slugs, first match wins: the JSON object's, then one folder per family.
ENGINE_DIFFUSERS_MODELS = env_mapping("ENGINE_DIFFUSERS_MODELS")
for _pattern, _folder in (
    ("flux/*", env_str("ENGINE_DIFFUSERS_FLUX")),
    ("sdxl/*", env_str("ENGINE_DIFFUSERS_SDXL")),
    ("sd/*", env_str("ENGINE_DIFFUSERS_SD")),
):
    if _folder:
        ENGINE_DIFFUSERS_MODELS.setdefault(_pattern, _folder)
# cuda, cuda:1, mps, cpu; auto: CUDA, else MPS, else the CPU.
ENGINE_DIFFUSERS_DEVICE = env_str("ENGINE_DIFFUSERS_DEVICE", "auto")
ENGINE_DIFFUSERS_DTYPE = env_choice(
    "ENGINE_DIFFUSERS_DTYPE", "auto", ("auto", "float32", "float16", "bfloat16")
)
# Inference steps for every mapped endpoint; 0: each model's usual count (4 for Schnell and
# Turbo, 28 for FLUX, 30 for the others).
ENGINE_DIFFUSERS_STEPS = env_int("ENGINE_DIFFUSERS_STEPS", 0)
# Generate at most this many pixels (0: no cap), then resize to the canvas's exact size:
# for slow machines and tests; the image is then softer than the canvas's size suggests.
ENGINE_DIFFUSERS_MAX_PIXELS = env_int("ENGINE_DIFFUSERS_MAX_PIXELS", 0)
# CPU threads for torch (0: its default, one per core). On a shared or busy machine, 1 to
# 2 per worker process is much faster than more threads than free cores.
ENGINE_DIFFUSERS_THREADS = env_int("ENGINE_DIFFUSERS_THREADS", 0)
# Keep only the running part of the model on the GPU (accelerate): less memory, slower.
ENGINE_DIFFUSERS_CPU_OFFLOAD = env_bool("ENGINE_DIFFUSERS_CPU_OFFLOAD", False)

# Production hardening: only outside debug, so local http runs keep working.
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Secure cookies need https; turn off only for a plain-http trial (compose.yaml).
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("TRUST_X_FORWARDED_PROTO", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
# Variables and form fields marked sensitive are hidden on debug pages too.
DEFAULT_EXCEPTION_REPORTER_FILTER = "studio.middleware.AlwaysSafeExceptionReporterFilter"
# Scripts only from our own files (htmx included), never inline, never eval (htmx's
# allowEval is off in base.html). Style attributes carry per-image placeholders and
# progress widths; <style> elements stay forbidden (htmx's own is turned off there too).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
