"""Shared fixtures: a project team, API clients, a real Celery worker, headless Chromium."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests
# make around it are synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@dataclass
class Team:
    project: object
    admin: object
    supervisor: object
    coders: list
    outsider: object

    @property
    def coder(self):
        return self.coders[0]


@pytest.fixture
def team(db):
    """A project with an admin, a supervisor and three coders, plus a user from elsewhere."""
    from tests.factories import MembershipFactory, ProjectFactory, UserFactory

    project = ProjectFactory(slug="study", name="Micro-credentials study")
    members = {}
    for username, role in [
        ("ada", "admin"),
        ("sam", "supervisor"),
        ("cora", "coder"),
        ("cole", "coder"),
        ("cleo", "coder"),
    ]:
        members[username] = UserFactory(username=username)
        MembershipFactory(project=project, user=members[username], role=role)
    outsider = UserFactory(username="olga")
    MembershipFactory(user=outsider, role="admin")  # admin of another project only
    return Team(
        project=project,
        admin=members["ada"],
        supervisor=members["sam"],
        coders=[members["cora"], members["cole"], members["cleo"]],
        outsider=outsider,
    )


@pytest.fixture
def api_for():
    """api_for(user) → a DRF APIClient logged in as that user (session auth)."""
    from rest_framework.test import APIClient

    def make(user):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED_DATA}")
    return SHARED_DATA


# ----------------------------------------------------------------------------- Celery worker


def start_celery_worker(queue: str, log: Path, extra_env: dict | None = None):
    """A real Celery worker process (solo pool) on the real broker, consuming `queue` and
    reading the test database; returns once it is ready."""
    from django.db import connection

    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        pytest.fail("integration tests need CELERY_BROKER_URL=redis://... (make test sets it)")
    db = connection.settings_dict
    database_url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = os.environ | {
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_SETTINGS_MODULE": "coding_app.settings.test",
    }
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "coding_app",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "--loglevel=INFO",
                "--without-mingle",
                "--without-gossip",
                "-n",
                f"{log.stem}-{queue}@%h",
            ],
            cwd=ROOT,
            env=env | (extra_env or {}),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"Celery worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return proc


def stop_celery_worker(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real Celery worker process on the real broker (Redis), reading the test database."""
    from django.conf import settings

    # The queue name is fixed when the process starts (Celery caches its routes), so the
    # Makefile gives each run its own; the worker consumes only that queue.
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    proc = start_celery_worker(queue, log)
    yield {"process": proc, "log": log, "queue": queue}
    stop_celery_worker(proc)


@contextmanager
def tasks_to_workers():
    """Within it, tasks go through the broker to real workers instead of running inline."""
    from coding_app.celery import app

    # With the CELERY_ settings namespace, Celery reads the prefixed key.
    app.conf.CELERY_TASK_ALWAYS_EAGER = False
    try:
        yield
    finally:
        app.conf.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def celery_worker(celery_worker_process):
    """Send this test's tasks to the real worker instead of running them inline."""
    with tasks_to_workers():
        yield celery_worker_process


# ----------------------------------------------------------------------------- Chromium


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make chromium`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def login(page, live_server):
    def do_login(username, password="pw-secret-123"):
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    return do_login
