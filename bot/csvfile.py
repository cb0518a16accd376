"""CSV files the project team opens in Excel with Swedish settings: semicolon-separated UTF-8 with a
byte-order mark (so å, ä and ö survive), decimal commas, local times to the minute (`local_minute`),
and no cell that Excel would run as a formula. Every CSV the bot writes goes through `csv_bytes`."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from bot.db.engine import as_utc

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text Excel would run as a formula gets a leading apostrophe (CSV/XLSX injection)."""
    if isinstance(value, str) and value[:1] in FORMULA_START:
        return "'" + value
    return value


def local_minute(value: datetime | None, tz: Any) -> str:
    """A stored time as people read it in a spreadsheet: local time, to the minute ('' when unset)."""
    if value is None:
        return ""
    return f"{as_utc(value).astimezone(tz):%Y-%m-%d %H:%M}"


def _cell(value: Any) -> Any:
    """Decimals with a comma: the semicolon dialect is what Excel with Swedish settings reads, and there
    "60.5" would become text or a date."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return safe_cell(value)


def csv_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
