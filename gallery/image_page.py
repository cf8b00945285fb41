"""An image's page, built in one place.

The detail view renders the whole page from ``image_page_context``; the fragments that
refresh parts of it (the sharing panel after a share, the collections after a change) are
rendered from the same builders, ``sharing_context`` and ``collections_context``. No
template asks for context of its own.

Apps above the gallery add sections to the page (create's "Make again") with
``add_section``, from their ``AppConfig.ready()``: the gallery names no app above it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse

from gallery.forms import CollectionForm, ShareLinkForm, ShareWithTeamForm
from gallery.links import shown_input
from gallery.models import Collection, Image, ShareLink
from gallery.search import for_grid
from gallery.sharing import share_link_token
from openjourney.catalog import UnknownEndpoint, get_endpoint

SectionBuilder = Callable[[HttpRequest, Image], dict]
CHILDREN_SHOWN = 48


@dataclass(frozen=True)
class Section:
    """A part of the image's page that an app above the gallery provides: its template
    (included in the page) and the context it needs (merged into the page's)."""

    template: str
    build: SectionBuilder


_sections: list[Section] = []


def add_section(template: str, build: SectionBuilder) -> None:
    """Show ``template`` on every image's page, with the context ``build(request, image)``."""
    if all(section.template != template for section in _sections):
        _sections.append(Section(template, build))


def collections_context(user, image: Image) -> dict:
    """The collections card: the image's collections and the others it could join."""
    collections = list(Collection.objects.filter(owner=user))
    member_of = set(
        Collection.images.through.objects.filter(
            image_id=image.pk, collection__owner=user
        ).values_list("collection_id", flat=True)
    )
    return {
        "collections": collections,
        "image_collections": [c for c in collections if c.pk in member_of],
        "other_collections": [c for c in collections if c.pk not in member_of],
        "collection_form": CollectionForm(owner=user, prefix="new"),
    }


def sharing_context(
    request: HttpRequest, image: Image, *, can_edit: bool | None = None, **extra
) -> dict:
    """The sharing panel: where the image is shared and, for those who may edit it, its
    live public links. ``can_edit`` when the caller already knows it (one query less)."""
    user = request.user
    is_author = image.owner_id == user.pk
    if can_edit is None:
        can_edit = Image.objects.editable_by(user).filter(pk=image.pk).exists()
    links = []
    if can_edit:
        for link in ShareLink.objects.live().filter(image=image):
            url = reverse("sharing:public-image", args=[share_link_token(link)])
            links.append({"link": link, "url": request.build_absolute_uri(url)})
    context = {
        "image": image,
        "is_author": is_author,
        "can_link": can_edit,
        "share_form": ShareWithTeamForm(user, initial={"team": image.team_id})
        if is_author
        else None,
        "link_form": ShareLinkForm(),
        "links": links,
        "error": "",
    }
    context.update(extra)
    return context


def image_page_context(request: HttpRequest, image: Image) -> dict:
    """Everything the image's page shows. ``image`` comes with its job and parent."""
    user = request.user
    try:
        spec = get_endpoint(image.endpoint) if image.endpoint else None
    except UnknownEndpoint:
        spec = None
    parent = None
    if image.parent_id:
        parent = Image.objects.visible_to(user).filter(pk=image.parent_id).first()
    children = list(
        for_grid(Image.objects.visible_to(user).filter(parent=image), user).order_by(
            "-created_at", "-id"
        )[:CHILDREN_SHOWN]
    )
    can_edit = Image.objects.editable_by(user).filter(pk=image.pk).exists()
    context = {
        **sharing_context(request, image, can_edit=can_edit),
        **collections_context(user, image),
        "spec": spec,
        # An input image's signed link is shown as the image it names, if the user may see it.
        "params": sorted((k, shown_input(v, user)) for k, v in image.params.items() if k != "seed"),
        "parent": parent,
        "parent_hidden": bool(image.parent_id and parent is None),
        "children": children,
        "job": image.job if image.job_id and image.job.owner_id == user.pk else None,
        "can_edit": can_edit,
    }
    for section in _sections:
        context.update(section.build(request, image))
    context["sections"] = [section.template for section in _sections]
    return context
