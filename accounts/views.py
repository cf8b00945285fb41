from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters

from accounts.forms import SignUpForm
from studio.lib.ratelimit import RateLimited, check_limit, client_address, count_attempt, too_many

SIGN_IN_MESSAGE = "Too many failed sign-ins: wait {seconds} seconds, then try again."


def _sign_in_limits(request: HttpRequest) -> list[tuple[str, str, int]]:
    """(scope, key, limit) of a sign-in: per username (any address) and per address."""
    username = (request.POST.get("username") or "").strip().lower()[:150]
    address = client_address(request)
    return [
        ("login-user", username, settings.LOGIN_RATE_LIMIT),
        ("login-ip", address, settings.LOGIN_IP_RATE_LIMIT),
    ]


class SignInView(auth_views.LoginView):
    """Django's sign-in, with failed attempts counted per username and per address.

    Over either limit, every attempt (a right password too) answers 429 until the window
    ends, so guessing cannot go on at full speed.
    """

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            for scope, key, limit in _sign_in_limits(request):
                check_limit(
                    scope,
                    key,
                    limit=limit,
                    window=settings.LOGIN_RATE_WINDOW,
                    message=SIGN_IN_MESSAGE,
                )
        except RateLimited as refusal:
            # An unbound form: a bound one would check the password when rendered.
            form = self.get_form_class()(
                request, initial={"username": request.POST.get("username", "")[:150]}
            )
            context = self.get_context_data(form=form, refusal=str(refusal))
            return too_many(self.render_to_response(context), refusal)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form) -> HttpResponse:
        try:
            for scope, key, limit in _sign_in_limits(self.request):
                count_attempt(
                    scope,
                    key,
                    limit=limit,
                    window=settings.LOGIN_RATE_WINDOW,
                    message=SIGN_IN_MESSAGE,
                )
        except RateLimited:
            pass  # this attempt failed anyway; the next one is refused before it is tried
        return super().form_invalid(form)


@sensitive_post_parameters("password1", "password2")
@login_not_required
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and sign in, unless sign-up is closed by SIGNUP_OPEN."""
    if not settings.SIGNUP_OPEN:
        return render(request, "accounts/signup_closed.html", status=403)
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)

    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/signup.html", {"form": form})
