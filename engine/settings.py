"""Settings of the engine's own server (``engine.asgi``): the studio's, less the studio.

The one engine module that references the project package: the engine shares the studio's
database, media storage, secret key (which signs the media links it reads, see
``engine/studio_media.py``) and Celery broker, so it builds on ``studio.settings`` and
replaces what its server serves: only the engine's URLs, apps and middleware. No session,
sign-in, CSRF, team actor or static files: the API has its own tokens and answers JSON.
"""

from studio.settings import *  # noqa: F403 (every shared setting, then the engine's own)

INSTALLED_APPS = [
    # The token's owner (ApiToken.user) and what auth's models need.
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "engine",
]

MIDDLEWARE = [
    # HTTPS redirect, HSTS and nosniff when deployed behind TLS, as on the studio's server.
    "django.middleware.security.SecurityMiddleware",
    # Content-Length on every JSON answer, as the studio's server sends it.
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "engine.root_urls"
ASGI_APPLICATION = "engine.asgi.application"
# The engine renders no templates: its answers, errors included, are JSON.
TEMPLATES: list[dict] = []
