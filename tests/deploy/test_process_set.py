"""The deployment as configured: docker-compose.yml and `make up` (bin/up, reading the
Procfile) run the same processes with the same commands, and the production settings pass
Django's deployment checks with no warning."""

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def procfile() -> dict[str, str]:
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = command.strip()
    return entries


def compose_commands() -> dict[str, str]:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    commands = {}
    for name, service in services.items():
        command = service.get("command")
        if name in ("postgres", "redis"):
            continue
        # ["sh", "-c", "exec <command>"], with $$ for a literal $ (compose interpolation).
        assert command[:2] == ["sh", "-c"], name
        commands[name] = re.sub(r"^exec ", "", command[2]).replace("$$", "$")
    return commands


def test_compose_and_make_up_run_the_same_processes_with_the_same_commands():
    assert compose_commands() == procfile()
    up = (ROOT / "bin" / "up").read_text()
    for name in procfile():
        assert f"command_of {name}" in up or f"start {name} " in up, name
    assert "make up" not in procfile().values()
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^up:.*\n\tbin/up$", makefile, re.M)


def test_compose_services_have_healthchecks_volumes_and_an_env_file():
    spec = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = spec["services"]
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert "pgdata" in spec["volumes"]
    assert services["web"]["env_file"] == ".env"
    assert services["web"]["environment"]["DJANGO_SETTINGS_MODULE"].endswith("production")


def test_production_settings_pass_check_deploy_without_warnings():
    # The test suite allows async-unsafe ORM calls for Playwright; a deployment must not.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"} | {
        "DJANGO_SETTINGS_MODULE": "coding_app.settings.production",
        "DJANGO_SECRET_KEY": "x" * 20 + "-Kq3!vL9#pW2@zR7$mN5%tY8^bH4&jD6*",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/grounded",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
        "ALLOWED_HOSTS": "grounded.example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr and "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {
        k: v for k, v in os.environ.items() if k not in ("DJANGO_SECRET_KEY", "DATABASE_URL")
    } | {"DJANGO_SETTINGS_MODULE": "coding_app.settings.production"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr
