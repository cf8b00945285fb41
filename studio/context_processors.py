from django.conf import settings
from django.http import HttpRequest


def studio(request: HttpRequest) -> dict:
    """Values every page's layout needs."""
    return {"signup_open": settings.SIGNUP_OPEN}
