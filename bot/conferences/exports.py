"""Attendance as CSV: for one meeting (the lead's download) or every meeting (`samsyv export conferences`).

Semicolon-separated UTF-8 with a byte-order mark, which is what Excel with Swedish settings opens
directly; one row per person and meeting, so a pivot table gives the totals.
"""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

from bot.conferences.models import Attendee, Conference
from bot.conferences.views import answer_label, kind_label
from bot.i18n import t

COLUMNS = ("meeting", "start", "end", "kind", "unit", "status", "user", "answer", "waitlist", "answered")


def cell(value: object) -> str:
    """Neutralise text Excel would run as a formula (CSV injection)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def attendance_csv(rows: list[tuple[Conference, list[Attendee]]], lang: str, tz: ZoneInfo) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([t(lang, f"conf.csv.{name}") for name in COLUMNS])
    for conf, people in rows:
        meeting = [cell(conf.title), f"{conf.start_at.astimezone(tz):%Y-%m-%d %H:%M}",
                   f"{conf.end_at.astimezone(tz):%Y-%m-%d %H:%M}", kind_label(lang, conf.kind), cell(conf.unit or ""),
                   t(lang, f"conf.status.{conf.status.value}")]
        for person in people:
            writer.writerow([*meeting, person.user_id,
                             answer_label(lang, person.answer, person.waitlist_position),
                             person.waitlist_position or "", f"{person.answered_at.astimezone(tz):%Y-%m-%d %H:%M}"])
        if not people:
            writer.writerow([*meeting, "", "", "", ""])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def csv_filename(conf: Conference) -> str:
    slug = "-".join("".join(c if c.isalnum() else " " for c in conf.title.lower()).split())[:40] or "meeting"
    return f"deltagare-{slug}-{conf.start_at:%Y%m%d}.csv"
