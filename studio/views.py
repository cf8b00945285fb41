from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    """The signed-in user's start page: where to go next."""
    return render(request, "studio/home.html")


def create(request: HttpRequest) -> HttpResponse:
    """The create page: a picker of every model and utility of the catalog."""
    return render(request, "studio/create.html")
