from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def team_list(request: HttpRequest) -> HttpResponse:
    """The teams the user belongs to."""
    return render(request, "teams/team_list.html")
