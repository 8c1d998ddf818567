"""The web front door: CSRF on session writes, login throttling (login page, admin login and
API token), password validators, and the production settings' cookies and headers."""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from coding_app.models import Coding

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "pw-secret-123"  # tests.factories.UserFactory


# ----------------------------------------------------------------------- CSRF


def _csrf_client(user, post):
    """A browser-like client: session login, CSRF checks on, the token cookie from a page."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(f"/p/study/posts/{post.pk}/")
    assert page.status_code == 200
    return client, client.cookies["csrftoken"].value


def test_session_writes_to_the_api_need_the_csrf_token(world):
    cora = world.team.coders[0]
    client, token = _csrf_client(cora, world.ours.post)
    ours = world.ours
    body = {"post": ours.other_post.pk, "code": ours.code.pk, "start": 0, "end": 7}
    url = f"/api/codings/{ours.coding.pk}/"

    refused = [
        client.post("/api/codings/", body, content_type="application/json"),
        client.patch(url, {"memo": "x"}, content_type="application/json"),
        client.delete(url),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403]
    assert all("CSRF" in r.json()["detail"] for r in refused)
    assert Coding.objects.filter(coder=cora).count() == 1
    ours.coding.refresh_from_db()
    assert ours.coding.memo != "x"

    header = {"HTTP_X_CSRFTOKEN": token}
    created = client.post("/api/codings/", body, content_type="application/json", **header)
    assert created.status_code == 201
    patched = client.patch(url, {"memo": "x"}, content_type="application/json", **header)
    assert patched.status_code == 200
    assert client.delete(url, **header).status_code == 204


def test_session_form_posts_need_the_csrf_token(world):
    client, token = _csrf_client(world.team.admin, world.ours.post)
    data = {"action": "remove", "username": "cleo"}
    assert client.post("/p/study/members/", data).status_code == 403
    assert world.team.project.memberships.filter(user__username="cleo").exists()
    done = client.post("/p/study/members/", data | {"csrfmiddlewaretoken": token})
    assert done.status_code == 302
    assert not world.team.project.memberships.filter(user__username="cleo").exists()


def test_token_authenticated_scripts_need_no_csrf_token(world):
    token = Token.objects.create(user=world.team.coders[0])
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    ours = world.ours
    body = {"post": ours.other_post.pk, "code": ours.code.pk, "start": 0, "end": 7}
    assert client.post("/api/codings/", body, format="json").status_code == 201


def test_logout_is_a_post_not_a_link(world):
    client = Client()
    client.force_login(world.team.coders[0])
    assert client.get("/logout/").status_code == 405
    assert client.get("/").status_code == 200  # still logged in


# ----------------------------------------------------------------------- login throttling


@pytest.fixture
def throttle_cache(settings):
    """A real cache of this test's own (the suite's test settings keep nothing)."""
    from django.core.cache import cache

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"throttle-{uuid.uuid4()}",
        }
    }
    yield
    cache.clear()


def _login(client, username, password, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_five_failed_logins_lock_the_username_even_for_the_right_password(
    team, throttle_cache, monkeypatch
):
    client = Client()
    for _ in range(4):
        assert _login(client, "cora", "wrong").status_code == 200
    fifth = _login(client, "cora", "wrong")
    assert "Wait 15 minutes" in fifth.content.decode()  # the failure that locks says so
    locked = _login(client, "cora", PASSWORD)
    assert locked.status_code == 429
    html = locked.content.decode()
    assert "Too many failed logins" in html and 'role="alert"' in html
    assert not _logged_in(client)
    # Another user from elsewhere is not affected ...
    assert _login(Client(REMOTE_ADDR="10.0.0.9"), "cole", PASSWORD).status_code == 302
    # ... and once the window has passed, the right password works again.
    later = time.time() + 15 * 60 + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert _login(client, "cora", PASSWORD).status_code == 302
    assert _logged_in(client)


def test_a_right_password_before_the_limit_clears_the_count(team, throttle_cache):
    client = Client()
    for _ in range(4):
        _login(client, "cora", "wrong")
    assert _login(client, "cora", PASSWORD).status_code == 302
    client = Client()
    for _ in range(4):
        _login(client, "cora", "wrong")
    assert _login(client, "cora", PASSWORD).status_code == 302


def test_one_address_trying_many_usernames_is_locked(team, throttle_cache):
    client = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(20):
        _login(client, f"nobody{n}", "wrong")
    assert _login(client, "cole", PASSWORD).status_code == 429
    assert _login(Client(REMOTE_ADDR="203.0.113.8"), "cole", PASSWORD).status_code == 302


def test_behind_the_proxy_the_address_is_the_one_the_proxy_appended(team, throttle_cache, settings):
    """A client cannot dodge the address limit by sending its own X-Forwarded-For."""
    settings.GROUNDED_TRUSTED_PROXIES = 1
    proxy = "10.0.0.1"
    for n in range(20):
        forged = f"198.51.100.{n}, 203.0.113.7"  # the proxy appended the real address
        _login(Client(REMOTE_ADDR=proxy), f"nobody{n}", "wrong", HTTP_X_FORWARDED_FOR=forged)
    locked = _login(Client(REMOTE_ADDR=proxy), "cole", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert locked.status_code == 429
    other = _login(Client(REMOTE_ADDR=proxy), "cole", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert other.status_code == 302  # the proxy's own address is not what is counted


def test_api_token_endpoint_is_locked_the_same_way(team, throttle_cache):
    client = APIClient()
    for _ in range(5):
        bad = client.post("/api/token/", {"username": "cora", "password": "wrong"}, format="json")
        assert bad.status_code == 400
    locked = client.post("/api/token/", {"username": "cora", "password": PASSWORD}, format="json")
    assert locked.status_code == 429
    assert set(locked.json()) == {"detail", "errors"}
    assert "Too many failed logins" in locked.json()["detail"]
    assert int(locked["Retry-After"]) > 800
    assert not Token.objects.filter(user__username="cora").exists()


def test_failed_logins_on_the_login_page_lock_the_admin_login_too(team, throttle_cache):
    ada = team.admin
    ada.is_staff = ada.is_superuser = True
    ada.save()
    for _ in range(5):
        _login(Client(), "ada", "wrong")
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": "ada", "password": PASSWORD})
    assert response.status_code == 200  # the form again, not the redirect into the admin
    assert not _logged_in(client)


def test_login_does_not_redirect_to_another_site(team):
    client = Client()
    response = client.post(
        "/login/?next=https://evil.example/",
        {"username": "cora", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


# ----------------------------------------------------------------------- passwords


@pytest.mark.parametrize("password", ["123", "12345678901234", "password123", "qwertyuiop"])
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_strong_password_passes():
    validate_password("lichen-harbour-47-quietly")


def test_password_validators_are_enforced_when_an_admin_adds_a_user(team):
    ada = team.admin
    ada.is_staff = ada.is_superuser = True
    ada.save()
    client = Client()
    client.force_login(ada)
    data = {"username": "newbie", "usable_password": "true"}
    weak = client.post("/admin/auth/user/add/", data | {"password1": "1234", "password2": "1234"})
    assert weak.status_code == 200
    assert not get_user_model().objects.filter(username="newbie").exists()
    strong = "lichen-harbour-47-quietly"
    done = client.post("/admin/auth/user/add/", data | {"password1": strong, "password2": strong})
    assert done.status_code == 302
    assert get_user_model().objects.filter(username="newbie").exists()


def _change_password(client, old, new, again=None):
    data = {"old_password": old, "new_password1": new, "new_password2": again or new}
    return client.post("/account/password/", data)


def test_a_member_changes_their_password_and_their_other_sessions_end(team):
    here, elsewhere = Client(), Client()
    assert _login(here, "cora", PASSWORD).status_code == 302
    assert _login(elsewhere, "cora", PASSWORD).status_code == 302
    page = here.get("/account/password/")
    assert page.status_code == 200 and "Change your password" in page.content.decode()
    assert 'href="/account/password/"' in here.get("/").content.decode()  # from the top bar

    strong = "lichen-harbour-47-quietly"
    done = _change_password(here, PASSWORD, strong)
    assert done.status_code == 302 and done["Location"] == "/"
    assert "Your password is changed" in here.get("/").content.decode()
    assert _logged_in(here)  # this session goes on
    assert elsewhere.get("/")["Location"].startswith("/login/")  # the other one is over
    assert _login(Client(), "cora", strong).status_code == 302
    assert _login(Client(), "cora", PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "old, new, again, message",
    [
        ("wrong", "lichen-harbour-47-quietly", None, "Your old password was entered incorrectly"),
        (PASSWORD, "1234", None, "This password is too short"),
        (PASSWORD, "lichen-harbour-47-quietly", "lichen-harbour-48", "didn’t match"),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(team, old, new, again, message):
    client = Client()
    client.force_login(team.coder)
    response = _change_password(client, old, new, again)
    assert response.status_code == 200
    assert message in response.content.decode()
    team.coder.refresh_from_db()
    assert team.coder.check_password(PASSWORD)


def test_guessing_the_current_password_counts_as_failed_logins(team, throttle_cache):
    client = Client()
    client.force_login(team.coder)
    strong = "lichen-harbour-47-quietly"
    for _ in range(5):
        _change_password(client, "guess", strong)
    locked = _change_password(client, PASSWORD, strong)  # the right one, too late
    assert "Too many failed logins" in locked.content.decode()
    team.coder.refresh_from_db()
    assert team.coder.check_password(PASSWORD)
    assert _login(Client(REMOTE_ADDR="10.0.0.9"), "cora", PASSWORD).status_code == 429


def test_anonymous_is_sent_to_the_login_page_for_the_password_form():
    response = Client().get("/account/password/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# ----------------------------------------------------------------------- headers and settings


def test_pages_send_the_protective_headers(world):
    client = Client()
    client.force_login(world.team.coders[0])
    response = client.get("/p/study/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    login = Client().post("/login/", {"username": "cora", "password": PASSWORD})
    assert login.cookies["sessionid"]["httponly"]
    assert login.cookies["sessionid"]["samesite"] == "Lax"


PRODUCTION_PROBE = """
import json
import django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "DEBUG": s.DEBUG,
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
    "SESSION_COOKIE_HTTPONLY": s.SESSION_COOKIE_HTTPONLY,
    "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE,
    "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT,
    "SECURE_HSTS_SECONDS": s.SECURE_HSTS_SECONDS,
    "SECURE_PROXY_SSL_HEADER": s.SECURE_PROXY_SSL_HEADER,
    "X_FRAME_OPTIONS": s.X_FRAME_OPTIONS,
    "CACHE": s.CACHES["default"]["BACKEND"],
    "CACHE_LOCATION": s.CACHES["default"].get("LOCATION"),
    "BACKENDS": s.AUTHENTICATION_BACKENDS,
    "VALIDATORS": len(s.AUTH_PASSWORD_VALIDATORS),
    "TRUSTED_PROXIES": s.GROUNDED_TRUSTED_PROXIES,
}))
"""


def _production(**env):
    base = {k: v for k, v in os.environ.items() if k not in ("CACHE_URL", "DEBUG")}
    env = (
        base
        | {
            "DJANGO_SETTINGS_MODULE": "coding_app.settings.production",
            "DJANGO_SECRET_KEY": "x" * 50,
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/grounded",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
            "DEBUG": "true",  # production ignores it
        }
        | env
    )
    return subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_production_settings_secure_cookies_and_share_the_throttle_cache():
    result = _production()
    assert result.returncode == 0, result.stderr
    s = json.loads(result.stdout)
    assert s["DEBUG"] is False
    assert s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"] and s["SESSION_COOKIE_HTTPONLY"]
    assert s["SECURE_SSL_REDIRECT"] and s["SECURE_HSTS_SECONDS"] >= 31536000
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert s["X_FRAME_OPTIONS"] == "DENY"
    assert s["CACHE"] == "django.core.cache.backends.redis.RedisCache"
    assert s["CACHE_LOCATION"] == "redis://127.0.0.1:6379/15"
    assert s["BACKENDS"] == ["coding_app.auth_views.ThrottledModelBackend"]
    assert s["VALIDATORS"] >= 4
    assert s["TRUSTED_PROXIES"] == 1


def test_production_cache_may_be_its_own_redis_but_never_per_process():
    own = _production(CACHE_URL="redis://cache.internal:6379/3")
    assert json.loads(own.stdout)["CACHE_LOCATION"] == "redis://cache.internal:6379/3"
    refused = _production(CELERY_BROKER_URL="amqp://rabbit//")
    assert refused.returncode != 0
    assert "CACHE_URL must name a Redis server" in refused.stderr


# ----------------------------------------------------------------------- spreadsheet exports

FORMULA = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture
def formulas(world):
    """A code, a quote, a memo, an author and a post URL that a spreadsheet would run."""
    from coding_app import services
    from tests.factories import PostFactory

    team = world.team
    post = PostFactory(
        project=team.project,
        text=f"{FORMULA} is what the post says about skills.",
        author=FORMULA,
        url="=cmd|' /C calc'!A0",
        external_id="+SUM(1,2)",
    )
    code = services.code_create(project=team.project, name=FORMULA, definition="@SUM(1)")
    for coder in team.coders[:2]:
        services.coding_apply(
            post=post, code=code, coder=coder, start=0, end=len(FORMULA), memo="-2+3"
        )
    return {"post": post, "code": code}


def _cells(response) -> list[str]:
    import csv
    import io

    body = b"".join(response.streaming_content) if response.streaming else response.content
    rows = csv.reader(io.StringIO(body.decode("utf-8-sig")))
    return [cell for row in list(rows)[1:] for cell in row]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _formula_cells(cells) -> list[str]:
    """Text cells a spreadsheet would run (numbers such as -0.09 are just numbers)."""
    return [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(c)]


def test_quotes_and_codebook_csv_cells_never_start_a_formula_in_text_columns(world, formulas):
    client = Client()
    client.force_login(world.team.supervisor)
    quotes = _cells(client.get(f"/p/study/codes/{formulas['code'].pk}/quotes.csv"))
    assert FORMULA in "".join(quotes)  # the hostile values are exported (neutralised)
    assert _formula_cells(quotes) == []
    assert _formula_cells(_cells(client.get("/p/study/codebook.csv"))) == []


def test_quotes_csv_neutralises_a_formula_in_the_post_url(world, formulas):
    client = Client()
    client.force_login(world.team.supervisor)
    cells = _cells(client.get(f"/p/study/codes/{formulas['code'].pk}/quotes.csv"))
    assert _formula_cells(cells) == []


def test_agreement_exports_neutralise_formulas_in_code_names(
    world, formulas, django_capture_on_commit_callbacks
):
    import io

    from openpyxl import load_workbook

    cora, cole = world.team.coders[0], world.team.coders[1]
    client = Client()
    client.force_login(world.team.supervisor)
    query = f"?coders={cora.pk}&coders={cole.pk}"
    with django_capture_on_commit_callbacks(execute=True):  # the comparison job runs inline
        assert client.get(f"/p/study/agreement/{query}").status_code == 200
    cells = _cells(client.get(f"/p/study/agreement/{query}&format=csv"))
    assert FORMULA[1:] in "".join(cells)
    problems = _formula_cells(cells)
    book = load_workbook(io.BytesIO(client.get(f"/p/study/agreement/{query}&format=xlsx").content))
    problems += [
        cell.value
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]
    assert problems == []
