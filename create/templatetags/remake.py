"""``{% remake_actions image as actions %}``: what "make again" offers on an image's page.

A tag rather than view context so that the gallery's detail view needs no change: the page
includes ``create/image_actions.html``, which asks for its own context. Every action is
checked again by its view.
"""

from __future__ import annotations

from django import template

from create.remake import ImageActions, actions_for

register = template.Library()


@register.simple_tag(takes_context=True)
def remake_actions(context, image) -> ImageActions | None:
    request = context.get("request")
    if request is None or not getattr(request.user, "is_authenticated", False):
        return None
    return actions_for(request.user, image)
