"""Output files as a delivery cache: who may fetch them, and when they leave storage.

A job's output is served only to whom the job belongs: a request with a token of the
job's owner, or a link signed for its name that expires after
``ENGINE_OUTPUT_LINK_SECONDS`` (the job's ``output``, minted afresh with each GET of the
job, as the hosted service's delivery links are plain links a client can GET). The file
leaves storage when the owner deletes it (the studio does, once it has stored the
result; the studio removes it again with the image) or ``ENGINE_OUTPUT_TTL`` after the job
ended (``remove_expired_outputs``, on the scheduler).
"""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from engine.models import ApiToken, EngineJob
from openjourney.links import ENGINE_FILES_PATH

OUTPUT_LINK_SALT = "openjourney-engine.output-link"


def _signature(name: str, expires: int) -> str:
    return signing.Signer(salt=OUTPUT_LINK_SALT).signature(f"{name}\n{expires}")


def signed_output_path(name: str) -> str:
    """The path and query of a link to the output ``name``, valid for a while."""
    expires = int(time.time()) + settings.ENGINE_OUTPUT_LINK_SECONDS
    query = urlencode({"expires": expires, "signature": _signature(name, expires)})
    return f"{ENGINE_FILES_PATH}{name}?{query}"


def link_is_valid(name: str, expires: str, signature: str) -> bool:
    """Whether ``expires``/``signature`` (a link's query) were signed for ``name`` and
    have not expired."""
    if not expires.isdigit() or int(expires) < time.time():
        return False
    return constant_time_compare(signature, _signature(name, int(expires)))


def may_fetch(request: HttpRequest, job: EngineJob, token: ApiToken | None) -> bool:
    """A signed link for the job's file, or a token of the job's owner."""
    if token is not None and token.user_id == job.token.user_id:
        return True
    query = request.GET
    return link_is_valid(job.output_file, query.get("expires", ""), query.get("signature", ""))


def remove_output(job: EngineJob) -> None:
    """Take the job's file out of storage; its link answers 404 from now on."""
    updated = EngineJob.objects.filter(pk=job.pk, output_removed_at__isnull=True).update(
        output_removed_at=timezone.now()
    )
    if updated and job.output_file:
        default_storage.delete(job.output_file)


def remove_expired_outputs(now=None) -> int:
    """Remove the files of jobs that ended more than ENGINE_OUTPUT_TTL ago; how many."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.ENGINE_OUTPUT_TTL)
    expired = list(
        EngineJob.objects.filter(output_removed_at__isnull=True, completed_at__lt=cutoff)
        .exclude(output_file="")
        .only("pk", "output_file")[:1000]
    )
    for job in expired:
        remove_output(job)
    return len(expired)
