from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters

from accounts.forms import SignUpForm
from studio.lib.ratelimit import Attempt, RateLimited, client_address, reserve_attempts, too_many

SIGN_IN_MESSAGE = "Too many failed sign-ins: wait {seconds} seconds, then try again."


def sign_in_name(form: AuthenticationForm, raw: str) -> str:
    """The key of a sign-in's per-username limit: the name as the form hands it to
    authentication (its UsernameField: stripped, then NFKC, so "ｃａｒｏｌ" is carol),
    case-folded. The user lookup is exact, so names that differ only in case share one
    count: coarser than authentication, never finer, and no spelling has guesses of its own.
    """
    return form.fields["username"].to_python(raw).casefold()


class SignInView(auth_views.LoginView):
    """Django's sign-in, with failed attempts counted per username and per address.

    Each attempt is counted before its password is checked (``reserve_attempts``: atomic in
    Redis, so concurrent attempts cannot all slip under the limit) and given back when the
    sign-in succeeds. Over either limit, every attempt (a right password too) answers 429
    until the window ends, so guessing cannot go on at full speed.
    """

    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    attempts: list[Attempt]

    def _limits(self) -> list[tuple[str, str, int]]:
        """(scope, key, limit) of this sign-in: per username (any address) and per address."""
        form = self.get_form_class()(self.request)
        username = sign_in_name(form, self.request.POST.get("username") or "")
        return [
            ("login-user", username, settings.LOGIN_RATE_LIMIT),
            ("login-ip", client_address(self.request), settings.LOGIN_IP_RATE_LIMIT),
        ]

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            self.attempts = reserve_attempts(
                self._limits(), window=settings.LOGIN_RATE_WINDOW, message=SIGN_IN_MESSAGE
            )
        except RateLimited as refusal:
            # An unbound form: a bound one would check the password when rendered.
            form = self.get_form_class()(
                request, initial={"username": request.POST.get("username", "")[:150]}
            )
            context = self.get_context_data(form=form, refusal=str(refusal))
            return too_many(self.render_to_response(context), refusal)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form) -> HttpResponse:
        # A successful sign-in is not a failed one: its counts are given back.
        for attempt in self.attempts:
            attempt.release()
        return super().form_valid(form)


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
