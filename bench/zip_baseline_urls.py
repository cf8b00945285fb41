"""The studio's URLs plus one baseline view, for bench/zip_download.py only.

``/bench/zip-in-memory?ids=…`` builds the whole zip of the images in memory, then sends
it: the way a zip download is usually first written, and the baseline the streamed zip
(``/gallery/zip``) is compared with. Served by the same uvicorn command as the studio, with
``DJANGO_SETTINGS_MODULE=bench.zip_baseline_settings`` (whose ROOT_URLCONF is this module);
never part of the studio itself.
"""

from __future__ import annotations

import io
import json
import zipfile

from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from gallery.access import get_images_for
from gallery.search import ids_from
from gallery.zips import archive_name, image_recipe
from studio.urls import urlpatterns as studio_urlpatterns


@require_GET
def zip_in_memory(request: HttpRequest) -> HttpResponse:
    """The same images and recipes.json as /gallery/zip, the archive built whole first."""
    images = get_images_for(request.user, ids_from(request.GET.getlist("ids")))
    buffer = io.BytesIO()
    recipes = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for image in images:
            with default_storage.open(image.file.name, "rb") as source:
                archive.writestr(archive_name(image), source.read())
            recipes.append({**image_recipe(image), "file": archive_name(image)})
        manifest = {"generator": "Openjourney Studio", "images": recipes}
        archive.writestr("recipes.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="openjourney-images.zip"'
    return response


urlpatterns = [path("bench/zip-in-memory", zip_in_memory), *studio_urlpatterns]
