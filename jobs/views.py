from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def job_list(request: HttpRequest) -> HttpResponse:
    """The user's jobs, newest first."""
    return render(request, "jobs/job_list.html")
