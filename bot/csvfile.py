"""CSV files the project team opens in Excel with Swedish settings: semicolon-separated UTF-8 with a
byte-order mark (so å, ä and ö survive), and no cell that Excel would run as a formula."""

from __future__ import annotations

import csv
import io
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text Excel would run as a formula gets a leading apostrophe (CSV/XLSX injection)."""
    if isinstance(value, str) and value[:1] in FORMULA_START:
        return "'" + value
    return value


def csv_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
