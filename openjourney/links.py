"""The studio's signed media links, which the engine reads from storage without a request.

The studio signs ``{"n": <storage name>, "u": <user id>}`` with Django's signing (its
SECRET_KEY and this salt) and serves it at ``MEDIA_LINK_PATH + <signed value>``. ``u`` is
the user the link was minted for: the studio's view serves the file only while that user
may still see the image (a removed team member's links stop at once). The engine, sharing
the settings and the storage, checks the same signature and opens the file ``n`` names
directly; it reads ``n`` only, so links without ``u`` (minted before it existed) read the
same there. Only constants live here: both sides use ``django.core.signing`` themselves.

Links are minted when a job is sent to the API (``jobs.tasks.submit_job``), for the API's
fetch only, and never shown to a person; they expire after ``MEDIA_LINK_MAX_AGE``.
"""

MEDIA_LINK_PATH = "/media/signed/"
MEDIA_LINK_SALT = "openjourney-studio.media-link"
# Minutes, not hours: the API fetches a job's inputs as it starts the job.
MEDIA_LINK_MAX_AGE = 15 * 60
# The payload's keys: the storage name, and the id of the user the link was minted for.
MEDIA_LINK_NAME = "n"
MEDIA_LINK_USER = "u"
ENGINE_FILES_PATH = "/engine/files/"
