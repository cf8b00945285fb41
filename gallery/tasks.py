"""The gallery's background work."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task

from gallery.services import remove_orphan_files

logger = logging.getLogger(__name__)

# Far longer than any save takes, so a file being saved is never judged an orphan.
ORPHAN_GRACE = datetime.timedelta(hours=6)


@shared_task
def remove_orphan_image_files() -> int:
    """Remove image files left without a row (the scheduler runs it hourly); safe to repeat."""
    removed = remove_orphan_files(ORPHAN_GRACE)
    if removed:
        logger.info("Removed %d orphan image files: %s", len(removed), ", ".join(removed[:20]))
    return len(removed)
