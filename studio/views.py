"""The site's own pages: the signed-in user's start page, and the header's API badge."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from jobs.upstream import upstream_health


def home(request: HttpRequest) -> HttpResponse:
    """The signed-in user's start page: where to go next."""
    return render(request, "studio/home.html")


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """The header's badge: is the API up?"""
    return render(request, "studio/health.html", {"health": upstream_health()})
