"""Start-up and modes: a half-configured Slack names what is missing and stops; the console opens only
without any Slack setting and exits non-zero when standard input is closed; one start line."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

SLACK_VARS = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in SLACK_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'samsyv.db'}")
    return tmp_path


@pytest.mark.parametrize(("env", "args", "missing"), [
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, ["run"], "SLACK_APP_TOKEN"),
    ({"SLACK_APP_TOKEN": "xapp-1"}, ["run"], "SLACK_BOT_TOKEN"),
    ({"SLACK_SIGNING_SECRET": "s"}, ["run"], "SLACK_BOT_TOKEN"),
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, ["run", "--http"], "SLACK_SIGNING_SECRET"),
    ({}, ["run", "--http"], "SLACK_BOT_TOKEN"),
])
def test_half_configured_slack_names_the_missing_setting(clean_env: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str], env: dict[str, str],
                                                         args: list[str], missing: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith(f"Missing setting {missing}:")


def test_a_token_of_the_wrong_kind_is_named(clean_env: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xapp-swapped-secret")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Invalid setting SLACK_BOT_TOKEN: must start with xoxb-") and "swapped" not in err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def migrated(env: dict[str, str], cwd: Path) -> dict[str, str]:
    """`make run` migrates first (`samsyv db upgrade`): `run` and `console` only check the schema."""
    subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], cwd=cwd, env=env, check=True,
                   capture_output=True, timeout=120)
    return env


def test_console_with_closed_stdin_exits_non_zero_with_one_line_and_no_migration_logs(clean_env: Path) -> None:
    env = migrated({"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite+aiosqlite:///{clean_env / 'samsyv.db'}",
                    "PORT": str(free_port()), "HOME": str(clean_env)}, clean_env)
    result = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=clean_env, env=env, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Inga Slack-inställningar" in result.stdout and "standard input är stängd" in result.stdout
    assert "alembic" not in result.stderr.lower() and "Traceback" not in result.stderr


def test_console_serves_the_pupil_pages_on_port(clean_env: Path) -> None:
    port = free_port()
    env = migrated({"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite+aiosqlite:///{clean_env / 'samsyv.db'}",
                    "PORT": str(port), "HOME": str(clean_env)}, clean_env)
    script = ("import socket,time\n"
              "for _ in range(200):\n"
              "    try:\n"
              f"        socket.create_connection(('127.0.0.1', {port}), 1).close(); print('/syv hjälp'); break\n"
              "    except OSError: time.sleep(0.1)\n"
              "print('quit')\n")
    feeder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    result = subprocess.run([sys.executable, "-m", "bot", "console"], cwd=clean_env, env=env, stdin=feeder.stdout,
                            capture_output=True, text=True, timeout=120)
    feeder.wait(timeout=30)
    assert result.returncode == 0, result.stderr
    assert "Det här kan jag hjälpa dig med" in result.stdout and "Hej då!" in result.stdout


def test_links_point_at_the_port_the_pages_are_served_on(clean_env: Path) -> None:
    from bot.settings import load_settings

    assert load_settings(port=4000, _env_file=None).public_url == "http://localhost:4000"
    assert load_settings(port=4000, public_url="https://syv.example.se/", _env_file=None).public_url == \
        "https://syv.example.se"
