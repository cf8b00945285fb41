"""The gallery: the user's images (searched, a keyset page at a time), one image, its files,
favourites, collections, bulk actions (zip, collect, delete), compare, and signed links.

Access goes through gallery/access.py (another user's object answers 404); sharing an image
has its own views (gallery/sharing_views.py)."""

from __future__ import annotations

from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.files.storage import default_storage
from django.core.handlers.asgi import ASGIRequest
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gallery.access import get_collection_for, get_image_for, get_images_for
from gallery.files import file_response
from gallery.forms import MAX_BULK, BulkForm, CollectionForm, ImageFilterForm
from gallery.image_page import collections_context, image_page_context
from gallery.links import read_signed_value
from gallery.models import Collection, Favourite, Image
from gallery.search import KeysetPage, for_grid, gallery_page, ids_from
from gallery.zips import stream_zip
from teams.access import get_team_for
from teams.models import Membership, Team


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- files ----------------------------------------------------------------------------------


@require_GET
def image_file(request: HttpRequest, pk: int) -> HttpResponse:
    image = get_image_for(request.user, pk)
    download = f"openjourney-{image.pk}.{image.format}" if "download" in request.GET else None
    return file_response(image.file.name, image.content_type, download_name=download)


@require_GET
def image_thumbnail(request: HttpRequest, pk: int) -> HttpResponse:
    image = get_image_for(request.user, pk)
    if not image.thumbnail:
        return file_response(image.file.name, image.content_type)
    return file_response(image.thumbnail.name, "image/webp")


@login_not_required
@require_GET
def signed_media(request: HttpRequest, value: str) -> HttpResponse:
    """A stored image behind a signed, expiring link (for the API to fetch), served only
    while the user it was minted for may still see it: a member removed from the team,
    or an image deleted, ends every such link at once."""
    link = read_signed_value(value)
    if link is None or not default_storage.exists(link.name):
        raise Http404("The link is invalid or has expired.")
    image = (
        Image.objects.visible_to(link.user_id).filter(file=link.name).only("content_type").first()
    )
    if image is None:
        raise Http404("The link is invalid or has expired.")
    return file_response(link.name, image.content_type)


# --- the grid -------------------------------------------------------------------------------


def _grid(
    request: HttpRequest,
    template: str,
    base_url: str,
    *,
    collection: Collection | None = None,
    context: dict | None = None,
) -> HttpResponse:
    """A searchable grid of the user's visible images, a keyset page at a time.

    The same view answers the whole page, the results fragment (the filter form, through
    HTMX) and the next tiles (the infinite scroll's sentinel), in a constant number of
    queries whatever the page's length.
    """
    user = request.user
    teams = list(Team.objects.for_user(user))
    collections = list(Collection.objects.filter(owner=user))
    form = ImageFilterForm(request.GET, user=user, teams=teams, collections=collections)
    page, next_url, after = KeysetPage([], None), "", None
    if form.is_valid():
        # Another user's team or collection in the URL answers 404, through their helpers.
        team = None
        if form.cleaned_data["team"].isdigit():
            team = get_team_for(user, int(form.cleaned_data["team"]))
        if collection is None and form.cleaned_data["collection"]:
            collection_filter = get_collection_for(user, int(form.cleaned_data["collection"]))
        else:
            collection_filter = collection
        after = form.cleaned_data["after"]
        search = form.search(team=team, collection=collection_filter)
        page = gallery_page(user, search, after, team_ids=[t.pk for t in teams])
        if page.next_cursor is not None:
            query = [*form.query_items(), ("after", page.next_cursor.encode())]
            next_url = f"{base_url}?{urlencode(query)}"
        filtered = search.is_filtered and collection is None
    else:
        filtered = True
    reset_url = f"{base_url}?{urlencode(form.query_items())}" if after else ""
    context = {
        **(context or {}),
        "form": form,
        "images": page.images,
        "next_url": next_url,
        "newest_url": reset_url or "",
        "filtered": filtered,
        "collections": collections,
        "collection": collection,
        "teams": teams,
        "base_url": base_url,
    }
    htmx = request.htmx
    if htmx and not htmx.history_restore_request:
        # Fragments are the list page's partials, whichever page holds the grid.
        if htmx.trigger == "gallery-more":
            template = "gallery/image_list.html#tiles"
        elif htmx.target == "gallery-results":
            template = "gallery/image_list.html#results"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request", "HX-Target", "HX-Trigger"))
    return response


@require_GET
def image_list(request: HttpRequest) -> HttpResponse:
    """The images the user may see (their own and their teams'), newest first, searched."""
    return _grid(request, "gallery/image_list.html", reverse("gallery:list"))


# --- one image ------------------------------------------------------------------------------


@require_GET
def image_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The full image, its recipe, its lineage, its star, its collections, its sharing and
    what the apps above the gallery add (create's "Make again"): gallery/image_page.py."""
    image = get_image_for(
        request.user, pk, for_grid(Image.objects.select_related("job", "parent"), request.user)
    )
    return render(request, "gallery/image_detail.html", image_page_context(request, image))


@require_POST
def image_favourite(request: HttpRequest, pk: int) -> HttpResponse:
    """Star (``favourite=1``) or unstar (``favourite=0``) an image; saying it twice is fine."""
    image = get_image_for(request.user, pk)
    wanted = request.POST.get("favourite", "1") != "0"
    if wanted:
        try:
            with transaction.atomic():
                Favourite.objects.get_or_create(user=request.user, image=image)
        except IntegrityError:  # starred at the same moment elsewhere
            pass
    else:
        Favourite.objects.filter(user=request.user, image=image).delete()
    image.is_favourite = wanted
    if request.htmx:
        return render(request, "gallery/image_list.html#star", {"image": image})
    return redirect(_safe_next(request, image.get_absolute_url()))


@require_POST
def image_collections(request: HttpRequest, pk: int) -> HttpResponse:
    """Put the image in one of the user's collections (a new one, by name), or take it out."""
    user = request.user
    image = get_image_for(user, pk)
    action = request.POST.get("action", "add")
    new_form = None
    if action == "create":
        new_form = CollectionForm(request.POST, owner=user, prefix="new")
        if new_form.is_valid():
            collection = new_form.save()
            collection.images.add(image)
            messages.success(request, f"Added to the new collection “{collection.name}”.")
            new_form = None
    elif action in ("add", "remove"):
        value = request.POST.get("collection", "")
        if not value.isdigit():
            messages.error(request, "Choose a collection.")
        else:
            collection = get_collection_for(user, int(value))
            if action == "add":
                collection.images.add(image)
                messages.success(request, f"Added to “{collection.name}”.")
            else:
                collection.images.remove(image)
                messages.success(request, f"Removed from “{collection.name}”.")
    else:
        messages.error(request, "Unknown action.")
    if request.htmx:
        context = {"image": image, **collections_context(user, image)}
        if new_form is not None:
            context["collection_form"] = new_form
        return render(request, "gallery/image_detail.html#collections", context)
    if new_form is not None:
        for error in new_form.errors.get("name", []):
            messages.error(request, error)
    return redirect(image)


# --- compare --------------------------------------------------------------------------------


def recipe_differences(a: Image, b: Image) -> list[tuple[str, object, object]]:
    """The recipe keys whose values differ between two images, as (key, a's, b's)."""
    rows = [
        ("endpoint", a.endpoint or "upload", b.endpoint or "upload"),
        ("prompt", a.prompt, b.prompt),
        ("negative_prompt", a.negative_prompt, b.negative_prompt),
        ("seed", a.seed, b.seed),
    ]
    for key in sorted(set(a.params) | set(b.params)):
        if key == "seed":
            continue
        rows.append((key, a.params.get(key), b.params.get(key)))
    rows += [
        ("size", f"{a.width} × {a.height}", f"{b.width} × {b.height}"),
        ("format", a.format, b.format),
        ("author", a.owner.get_username(), b.owner.get_username()),
    ]
    return [(key, left, right) for key, left, right in rows if left != right]


@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    """Two visible images side by side and under a slider, with their recipes' differences."""
    values = [request.GET.get("a", ""), request.GET.get("b", "")]
    try:
        ids = ids_from(values)
    except ValueError:
        ids = []
    if len(ids) != 2 or not all(values):
        response = render(
            request,
            "gallery/compare.html",
            {"problem": "Choose two different images to compare (tick two tiles)."},
        )
        response.status_code = 400
        return response
    related = Image.objects.select_related("owner", "team")
    a, b = (get_image_for(request.user, pk, related) for pk in ids)
    return render(
        request,
        "gallery/compare.html",
        {"a": a, "b": b, "differences": recipe_differences(a, b)},
    )


# --- bulk actions ---------------------------------------------------------------------------


def zip_response(request: HttpRequest, images: list[Image]) -> StreamingHttpResponse:
    """The images' originals and recipes.json, streamed as a zip while it is written."""
    chunks = stream_zip(images)
    if isinstance(request, ASGIRequest):
        # Under ASGI a plain iterator would be read to the end before the first byte left.
        chunks = _async_chunks(chunks)
    response = StreamingHttpResponse(chunks, content_type="application/zip")
    name = f"openjourney-{images[0].pk}.zip" if len(images) == 1 else "openjourney-images.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


async def _async_chunks(chunks):
    """The zip's chunks for an ASGI server, each written in a worker thread as it is asked
    for; a client that goes away closes the archive (and the file it was reading)."""
    done = object()
    try:
        while True:
            chunk = await sync_to_async(next, thread_sensitive=False)(chunks, done)
            if chunk is done:
                return
            yield chunk
    finally:
        await sync_to_async(chunks.close, thread_sensitive=False)()


@require_GET
def images_zip(request: HttpRequest) -> HttpResponse:
    """``?ids=1&ids=2``: a link to the zip of these images (each one the user may see)."""
    try:
        ids = ids_from(request.GET.getlist("ids"))
    except ValueError:
        ids = []
    if not ids or len(ids) > MAX_BULK:
        messages.error(request, f"Choose between 1 and {MAX_BULK:,} images to download.")
        return redirect("gallery:list")
    return zip_response(request, get_images_for(request.user, ids))


@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """What the bulk bar under the ticked tiles asked for. One image the user may not see
    (or, to delete, edit) makes the whole action answer 404."""
    user = request.user
    back = _safe_next(request, reverse("gallery:list"))
    form = BulkForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    action, ids = form.cleaned_data["action"], form.cleaned_data["ids"]
    if action == "delete":
        images = get_images_for(user, ids, editable=True)
        return _confirm_delete(request, images, back)
    images = get_images_for(user, ids)
    if action == "zip":
        return zip_response(request, images)
    if action == "compare":
        return redirect(f"{reverse('gallery:compare')}?{urlencode({'a': ids[0], 'b': ids[1]})}")
    count = _images_count(len(images))
    if action == "add":
        target = get_collection_for(user, form.cleaned_data["collection"])
        target.images.add(*images)
        messages.success(request, f"Added {count} to “{target.name}”.")
    elif action == "move":
        source = get_collection_for(user, form.cleaned_data["from_collection"])
        target = get_collection_for(user, form.cleaned_data["collection"])
        with transaction.atomic():
            target.images.add(*images)
            if target.pk != source.pk:
                source.images.remove(*images)
        messages.success(request, f"Moved {count} to “{target.name}”.")
    elif action == "remove":
        source = get_collection_for(user, form.cleaned_data["from_collection"])
        source.images.remove(*images)
        messages.success(request, f"Removed {count} from “{source.name}”.")
    return redirect(back)


def _images_count(n: int) -> str:
    return f"{n} image" if n == 1 else f"{n:,} images"


def _confirm_delete(request: HttpRequest, images: list[Image], back: str) -> HttpResponse:
    return render(
        request,
        "gallery/image_delete.html",
        {"images": images, "count": _images_count(len(images)), "next": back},
    )


@require_http_methods(["GET", "POST"])
def images_delete(request: HttpRequest) -> HttpResponse:
    """GET: what would be deleted (``?ids=…``), to confirm. POST: delete the images and, once
    committed, their files (gallery.signals)."""
    user = request.user
    source = request.POST if request.method == "POST" else request.GET
    try:
        ids = ids_from(source.getlist("ids"))
    except ValueError:
        ids = []
    back = _safe_next(request, reverse("gallery:list"))
    if not ids or len(ids) > MAX_BULK:
        messages.error(request, f"Choose between 1 and {MAX_BULK:,} images to delete.")
        return redirect(back)
    images = get_images_for(user, ids, editable=True)
    if request.method == "GET":
        return _confirm_delete(request, images, back)
    # The team's log hears of it through gallery.signals; the files go after the commit.
    with transaction.atomic():
        Image.objects.filter(pk__in=[image.pk for image in images]).delete()
    messages.success(request, f"Deleted {_images_count(len(images))}.")
    # The page we came from may have been the deleted image's own.
    if any(back.startswith(image.get_absolute_url()) for image in images):
        back = reverse("gallery:list")
    return redirect(back)


# --- collections ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def collection_list(request: HttpRequest) -> HttpResponse:
    """The user's collections, and a form for a new one."""
    user = request.user
    form = CollectionForm(request.POST or None, owner=user)
    if request.method == "POST" and form.is_valid():
        collection = form.save()
        messages.success(request, f"Created “{collection.name}”.")
        return redirect(collection_url(collection))
    collections = _with_counts_and_covers(Collection.objects.filter(owner=user), user)
    response = render(
        request, "gallery/collection_list.html", {"collections": collections, "form": form}
    )
    if form.errors:
        response.status_code = 400
    return response


def _with_counts_and_covers(collections, user):
    """Each collection's number of images the user can still see, and the newest as cover."""
    teams = Membership.objects.filter(user=user).values("team_id")
    visible = Q(images__owner=user) | Q(images__team_id__in=teams)
    newest = (
        Image.objects.visible_to(user)
        .filter(collections=OuterRef("pk"))
        .order_by("-created_at", "-id")
    )
    return collections.annotate(
        count=Count("images", filter=visible),
        cover_id=Subquery(newest.values("pk")[:1]),
        cover_placeholder=Subquery(newest.values("placeholder")[:1]),
    )


def collection_url(collection: Collection) -> str:
    return reverse("gallery:collection", args=[collection.pk])


@require_GET
def collection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A collection's images, only those still visible to its owner, newest first."""
    collection = get_collection_for(request.user, pk)
    return _grid(
        request,
        "gallery/collection_detail.html",
        collection_url(collection),
        collection=collection,
        context={"rename_form": CollectionForm(instance=collection, owner=request.user)},
    )


@require_POST
def collection_rename(request: HttpRequest, pk: int) -> HttpResponse:
    collection = get_collection_for(request.user, pk)
    old_name = collection.name
    form = CollectionForm(request.POST, instance=collection, owner=request.user)
    if form.is_valid():
        form.save()
        messages.success(request, f"Renamed “{old_name}” to “{collection.name}”.")
    else:
        collection.name = old_name
        for error in form.errors.get("name", []):
            messages.error(request, error)
    return redirect(collection_url(collection))


@require_http_methods(["GET", "POST"])
def collection_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a collection (GET asks first); its images stay in the gallery."""
    collection = get_collection_for(request.user, pk)
    if request.method == "POST":
        name = collection.name
        collection.delete()
        messages.success(request, f"Deleted the collection “{name}”; its images are kept.")
        return redirect("gallery:collections")
    return render(request, "gallery/collection_delete.html", {"collection": collection})
