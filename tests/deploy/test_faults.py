"""Faults with real processes: the deployment's process set (`bin/up`: gunicorn, two Celery
workers, the scheduler) on the test database, with its own Redis server, and PostgreSQL
reached through a TCP relay that can be cut.

- workers killed with SIGKILL in the middle of an import and of a word-frequency job: once
  a worker runs again, the scheduler's stale-job sweep re-queues both and they finish, the
  batch holding each post once, the API having shown progress and then success;
- Redis restarted during an import: the job finishes or fails with a message, and nothing is
  left half imported;
- PostgreSQL unreachable: pages answer 503 and the API a JSON 503, and the app recovers by
  itself when the database is back (a relay stands in for a database restart, so the
  machine's PostgreSQL, shared by the rest of the suite, is never stopped).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
STALE_SECONDS = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Relay:
    """A TCP relay from a local port to PostgreSQL; `cut()` drops every connection and stops
    listening (the database is gone), `restore()` listens again on the same port."""

    def __init__(self, target_port: int):
        self.target = ("127.0.0.1", target_port)
        self.port = free_port()
        self.sockets: list[socket.socket] = []
        self.listener = None
        self.lock = threading.Lock()

    def restore(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self):
        with self.lock:
            listener, self.listener = self.listener, None
            doomed, self.sockets = self.sockets, []
        if listener:
            # shutdown wakes the thread blocked in accept(); close alone would not.
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        for sock in doomed:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class Stack:
    """bin/up's processes with their environment; kill and restart single processes."""

    def __init__(self, tmp: Path, database_url: str):
        self.tmp = tmp
        self.redis_port = free_port()
        self.redis = None
        self.start_redis()
        self.bind = f"127.0.0.1:{free_port()}"
        self.env = os.environ | {
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "CELERY_TASK_DEFAULT_QUEUE": f"faults-{uuid.uuid4().hex[:8]}",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DJANGO_SETTINGS_MODULE": "coding_app.settings.local",
            "DEBUG": "false",
            "BIND": self.bind,
            "WEB_WORKERS": "2",
            "WORKER_CONCURRENCY": "1",
            "WORKERS": "2",
            "UP_DIR": str(tmp / "up"),
            "GROUNDED_VAR_DIR": str(tmp / "var"),
            "GROUNDED_SWEEP_SECONDS": "1",
            "GROUNDED_JOB_STALE_SECONDS": str(STALE_SECONDS),
            "DATABASE_CONN_MAX_AGE": "60",
        }

    def start_redis(self):
        self.redis = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.redis_port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def restart_redis(self):
        self.redis.kill()
        self.redis.wait()
        self.start_redis()

    def up(self, *args):
        result = subprocess.run(
            ["bin/up", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]

    def down(self):
        subprocess.run(["bin/down"], cwd=ROOT, env=self.env, timeout=60)
        self.redis.kill()
        self.redis.wait()

    def pids(self, prefix: str) -> list[int]:
        return [int(p.read_text()) for p in sorted((self.tmp / "up").glob(f"{prefix}*.pid"))]

    def kill_workers(self):
        # Each worker leads its own process group (bin/up): SIGKILL the whole group, the
        # main process and its pool children, as when a machine or container dies.
        for pid in self.pids("worker"):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for path in (self.tmp / "up").glob("worker*.pid"):
            path.unlink()

    def logs(self) -> str:
        return "\n".join(
            f"== {log.name}\n{log.read_text()[-1500:]}" for log in (self.tmp / "up").glob("*.log")
        )

    def request(self, method, path, *, token=None, data=None, content_type=None, accept=None):
        headers = {}
        if token:
            headers["Authorization"] = f"Token {token}"
        if content_type:
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        req = urllib.request.Request(
            f"http://{self.bind}{path}", data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()


@pytest.fixture
def relay(transactional_db):
    from django.db import connection

    relay = Relay(int(connection.settings_dict["PORT"] or 5432))
    relay.restore()
    yield relay
    relay.cut()


@pytest.fixture
def stack(transactional_db, relay, tmp_path):
    from django.db import connection

    db = connection.settings_dict
    url = f"postgres://{db['USER'] or 'postgres'}@127.0.0.1:{relay.port}/{db['NAME']}"
    stack = Stack(tmp_path, url)
    stack.up()
    yield stack
    stack.down()


@pytest.fixture
def admin_token(team):
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=team.admin).key


def upload_csv(stack, token, project, rows: int) -> int:
    lines = ["id,text,author"] + [
        f"{i},Post {i} on skills and access: employers {i % 97} weigh badges {i * 7} "
        f"against degrees and learners {i % 13} ask about cost {i},A{i % 11}"
        for i in range(rows)
    ]
    body = ("\n".join(lines) + "\n").encode()
    boundary = uuid.uuid4().hex
    payload = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="project"\r\n\r\n{project}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="posts.csv"\r\nContent-Type: text/csv\r\n\r\n'
        ).encode()
        + body
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, _, content = stack.request(
        "POST",
        "/api/import-batches/",
        token=token,
        data=payload,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert status == 202, content[:500]
    return json.loads(content)["id"]


def poll(stack, path, token, *, until, timeout=120, seen=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, _, content = stack.request("GET", path, token=token)
        if status == 200:
            job = json.loads(content)
            if seen is not None:
                seen.append((job["status"], job["progress"]))
            if until(job):
                return job
        time.sleep(0.1)
    raise AssertionError(f"{path}: condition not met in {timeout}s\n{stack.logs()}")


def test_workers_killed_mid_import_and_mid_analysis_both_finish(stack, team, admin_token):
    from corpus.models import Post

    rows = 60_000
    batch = upload_csv(stack, admin_token, team.project.slug, rows)
    seen: list[tuple[str, float]] = []
    path = f"/api/import-batches/{batch}/"
    poll(
        stack,
        path,
        admin_token,
        until=lambda j: j["status"] == "running" and j["progress"] > 0.05,
        seen=seen,
    )
    stack.kill_workers()
    killed_at = time.monotonic()
    stack.up("worker")  # one worker comes back; the sweep re-queues the orphaned job
    done = poll(stack, path, admin_token, until=lambda j: j["status"] == "succeeded", seen=seen)
    assert time.monotonic() - killed_at >= STALE_SECONDS  # it really waited for the sweep
    assert done["attempts"] == 2
    assert done["imported_count"] == rows
    texts = Post.objects.filter(batch_id=batch)
    assert texts.count() == rows
    assert texts.values("content_hash").distinct().count() == rows
    assert any(s == "running" and 0 < p < 1 for s, p in seen)
    assert seen[-1] == ("succeeded", 1.0)

    # The same for a word-frequency job over those posts.
    status, _, content = stack.request(
        "POST",
        "/api/analyses/",
        token=admin_token,
        data=json.dumps(
            {"project": team.project.slug, "kind": "frequency", "params": {"scope": "project"}}
        ).encode(),
        content_type="application/json",
    )
    assert status == 201, content[:500]
    job = json.loads(content)["id"]
    seen = []
    poll(
        stack,
        f"/api/analyses/{job}/",
        admin_token,
        until=lambda j: j["status"] == "running" and j["progress"] > 0,
        seen=seen,
    )
    stack.kill_workers()
    stack.up("worker")
    result = poll(
        stack,
        f"/api/analyses/{job}/",
        admin_token,
        until=lambda j: j["status"] in ("succeeded", "failed"),
        seen=seen,
    )
    assert result["status"] == "succeeded", result["message"]
    words = {w["word"]: w["count"] for w in result["result"]["words"]}
    assert words["skills"] == rows and words["employers"] == rows
    assert any(s == "running" for s, _ in seen)


def test_redis_restarted_during_an_import_finishes_or_fails_clearly(stack, team, admin_token):
    from corpus.models import ImportBatch, Post

    rows = 30_000
    batch = upload_csv(stack, admin_token, team.project.slug, rows)
    poll(
        stack,
        f"/api/import-batches/{batch}/",
        admin_token,
        until=lambda j: j["status"] == "running" and j["progress"] > 0.05,
    )
    stack.restart_redis()
    job = poll(
        stack,
        f"/api/import-batches/{batch}/",
        admin_token,
        until=lambda j: j["status"] in ("succeeded", "failed"),
    )
    posts = Post.objects.filter(batch_id=batch).count()
    if job["status"] == "succeeded":
        assert posts == rows == job["imported_count"]
    else:
        assert job["message"] and posts == 0
    assert ImportBatch.objects.get(pk=batch).status == job["status"]
    # The broker is usable again: a new small import goes through.
    again = upload_csv(stack, admin_token, team.project.slug, 5)
    assert poll(
        stack,
        f"/api/import-batches/{again}/",
        admin_token,
        until=lambda j: j["status"] in ("succeeded", "failed"),
        timeout=60,
    )["status"] in ("succeeded", "failed")


def test_database_outage_answers_503_then_recovers_by_itself(stack, relay, team, admin_token):
    assert stack.request("GET", "/api/projects/", token=admin_token)[0] == 200
    relay.cut()
    status, headers, content = stack.request("GET", "/api/projects/", token=admin_token)
    assert status == 503
    assert "database" in json.loads(content)["detail"]
    assert headers["Retry-After"] == "5"
    status, _, content = stack.request("GET", "/healthz", accept="text/html")
    assert status == 503 and b"briefly unavailable" in content
    relay.restore()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if stack.request("GET", "/api/projects/", token=admin_token)[0] == 200:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the app did not recover after the database came back")
    assert stack.request("GET", "/healthz")[0] == 200
