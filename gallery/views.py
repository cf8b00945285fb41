from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def image_list(request: HttpRequest) -> HttpResponse:
    """The user's images, newest first."""
    return render(request, "gallery/image_list.html")
