"""The studio's signed media links, which the engine reads from storage without a request.

The studio signs ``{"n": <storage name>}`` with Django's signing (its SECRET_KEY and this
salt) and serves it at ``MEDIA_LINK_PATH + <signed value>``. The engine, sharing the
settings and the storage, checks the same signature and opens the file directly. Only
constants live here: both sides use ``django.core.signing`` themselves.
"""

MEDIA_LINK_PATH = "/media/signed/"
MEDIA_LINK_SALT = "openjourney-studio.media-link"
MEDIA_LINK_MAX_AGE = 6 * 3600
ENGINE_FILES_PATH = "/engine/files/"
