# Openjourney Studio: one image for web, engine, worker and scheduler (see compose.yaml).
FROM python:3.12-slim AS base

# DEBUG=0: the image runs as production does (branded error pages, never a debug page),
# and then needs SECRET_KEY (compose.yaml) or a key in /data/secret-key.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DEBUG=0 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STUDIO_DATA_DIR=/data \
    STATIC_ROOT=/app/staticfiles

# OpenCV's headless wheel needs libglib at run time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 studio \
    && mkdir -p /data && chown studio /data

WORKDIR /app
COPY . .
RUN pip install -c constraints.txt '.[s3]'
# Settings need a key to load; this one lives only for this command.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput

USER studio
EXPOSE 8000
VOLUME ["/data"]
CMD ["gunicorn", "studio.asgi:application", "--worker-class", "uvicorn_worker.UvicornWorker", \
     "--bind", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-"]
