"""Logging in, throttled: repeated failed logins lock a username (and an address) for a while.

After `GROUNDED_LOGIN_MAX_FAILURES` failed logins for one username, or
`GROUNDED_LOGIN_MAX_FAILURES_PER_IP` from one address, within
`GROUNDED_LOGIN_WINDOW_SECONDS` of the first, every login for it is refused, the right
password included, until that window ends. The authentication backend enforces it, so the
login page, the admin's login and the API token endpoint all obey it; the login page and the
token endpoint also say how long to wait.

The counts live in Django's cache. Every web process must share it (production uses Redis,
see settings/production.py); a per-process cache would multiply the allowance by the number
of processes. If the cache cannot be reached, logins are not throttled (and this is logged)
rather than refused.
"""

import hashlib
import logging
import math
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.views import LoginView, PasswordChangeView
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse_lazy

logger = logging.getLogger(__name__)


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or with `GROUNDED_TRUSTED_PROXIES` = n the n-th
    address from the right of X-Forwarded-For (the one our own proxy appended)."""
    if request is None:
        return None
    hops = settings.GROUNDED_TRUSTED_PROXIES
    if hops:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
        if len(addresses) >= hops:
            return addresses[-hops]
    return request.META.get("REMOTE_ADDR") or None


def _counters(request, username) -> list[tuple[str, int]]:
    """(cache key, limit) for the username and for the client's address."""
    counters = []
    if username:
        digest = hashlib.sha256(str(username).strip().casefold().encode()).hexdigest()
        counters.append((f"grounded:login:user:{digest}", settings.GROUNDED_LOGIN_MAX_FAILURES))
    ip = client_ip(request)
    if ip:
        counters.append((f"grounded:login:ip:{ip}", settings.GROUNDED_LOGIN_MAX_FAILURES_PER_IP))
    return counters


def login_wait_seconds(request, username) -> int:
    """Seconds before a login for this username from this address is accepted (0: now)."""
    wait = 0.0
    try:
        for key, limit in _counters(request, username):
            if (cache.get(f"{key}:n") or 0) >= limit:
                ends = cache.get(f"{key}:ends") or time.time() + 1
                wait = max(wait, ends - time.time())
    except Exception:  # the cache is down: do not lock everyone out
        logger.warning("login throttling skipped: the cache is unavailable", exc_info=True)
        return 0
    return max(math.ceil(wait), 0)


def login_failed(request, username) -> None:
    """Count a failed login; the window opens at the first failure."""
    window = settings.GROUNDED_LOGIN_WINDOW_SECONDS
    try:
        for key, _ in _counters(request, username):
            cache.add(f"{key}:ends", time.time() + window, window)
            cache.add(f"{key}:n", 0, window)
            try:
                cache.incr(f"{key}:n")
            except ValueError:  # expired between add and incr
                cache.set(f"{key}:n", 1, window)
    except Exception:
        logger.warning("login failure not counted: the cache is unavailable", exc_info=True)


def login_succeeded(request, username) -> None:
    """A right password (not locked) clears the username's count; the address keeps its own."""
    try:
        for key, _ in _counters(request, username)[:1]:
            cache.delete_many([f"{key}:n", f"{key}:ends"])
    except Exception:
        logger.warning("login success not recorded: the cache is unavailable", exc_info=True)


class ThrottledModelBackend(ModelBackend):
    """Django's username and password check, refusing while the username or address is
    locked (PermissionDenied ends authentication at once, whatever the password)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        if login_wait_seconds(request, username):
            raise PermissionDenied("Too many failed logins.")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_failed(request, username)
        else:
            login_succeeded(request, username)
        return user


def throttled_message(wait: int) -> str:
    minutes = max(1, math.ceil(wait / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return (
        "Too many failed logins for this account or from this address. "
        f"Wait {minutes} {unit} and try again."
    )


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username")
        if wait := login_wait_seconds(self.request, username):
            raise ValidationError(throttled_message(wait), code="throttled")
        try:
            return super().clean()
        except ValidationError:
            if wait := login_wait_seconds(self.request, username):  # this failure locked it
                raise ValidationError(throttled_message(wait), code="throttled") from None
            raise


class ThrottledLoginView(LoginView):
    form_class = ThrottledAuthenticationForm
    template_name = "registration/login.html"

    def form_invalid(self, form):
        if not form.has_error("__all__", code="throttled"):
            return super().form_invalid(form)
        context = self.get_context_data(form=form, throttled=form.non_field_errors()[0])
        return self.render_to_response(context, status=429)


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """Django's password change, where a wrong current password counts as a failed login:
    a session left open cannot be used to guess the password past the login limits."""

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        username = self.user.get_username()
        if wait := login_wait_seconds(self.request, username):
            raise ValidationError(throttled_message(wait), code="throttled")
        try:
            return super().clean_old_password()
        except ValidationError:
            login_failed(self.request, username)
            raise


class AccountPasswordView(PasswordChangeView):
    """Change your own password (login required); other sessions of the account end."""

    form_class = ThrottledPasswordChangeForm
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("projects-page")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(
            self.request, "Your password is changed; your other sessions are logged out."
        )
        return response
