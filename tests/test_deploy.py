"""Deploys without races: one migration step safe from several instances, `run` never migrates, backups."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.db import Database
from bot.db.migrate import current_revision, head_revision


async def _upgrade_process(url: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "db", "upgrade", env={**os.environ, "DATABASE_URL": url},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def test_two_upgrades_at_once_on_a_fresh_database_both_succeed_and_migrate_once(empty_db_url: str) -> None:
    (rc1, out1), (rc2, out2) = await asyncio.gather(_upgrade_process(empty_db_url), _upgrade_process(empty_db_url))
    assert (rc1, rc2) == (0, 0), out1 + out2
    assert "database is up to date" in out1 and "database is up to date" in out2
    migrated = [out for out in (out1, out2) if "applied " in out]
    assert len(migrated) == 1, "the second instance waited for the lock, then found nothing to do"
    db = Database(empty_db_url)
    try:
        assert await current_revision(db) == head_revision()
    finally:
        await db.dispose()


def test_run_refuses_a_database_behind_the_code_in_one_line(empty_db_url: str, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_db_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    assert main(["run", "--http"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "run `samsyv db upgrade` first" in err and head_revision() in err
    db = Database(empty_db_url)
    try:
        assert asyncio.run(current_revision(db)) is None, "run did not migrate"
    finally:
        asyncio.run(db.dispose())


def test_db_backup_uses_the_backends_own_tool_or_says_what_to_run(db_url: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    target = tmp_path / "backup.bin"
    assert main(["db", "backup", str(target)]) == 0
    assert target.read_bytes()[:5] in (b"PGDMP", b"SQLit")
    if db_url.startswith("postgresql"):
        monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump on the PATH
        assert main(["db", "backup", str(tmp_path / "again.dump")]) == 1
        err = capsys.readouterr().err
        assert "pg_dump is not installed; run: pg_dump --format=custom" in err and "PGPASSWORD" in err
