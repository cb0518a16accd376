"""Attendance as CSV: for one meeting (the lead's download) or every meeting (`samsyv export conferences`).

One row per person and meeting, so a pivot table gives the totals (format: bot/csvfile.py).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.conferences.models import Attendee, Conference
from bot.conferences.views import answer_label, kind_label
from bot.csvfile import csv_bytes
from bot.i18n import t

COLUMNS = ("meeting", "start", "end", "kind", "unit", "status", "user", "answer", "waitlist", "answered")


def attendance_csv(rows: list[tuple[Conference, list[Attendee]]], lang: str, tz: ZoneInfo) -> bytes:
    lines: list[list[object]] = []
    for conf, people in rows:
        meeting = [conf.title, f"{conf.start_at.astimezone(tz):%Y-%m-%d %H:%M}",
                   f"{conf.end_at.astimezone(tz):%Y-%m-%d %H:%M}", kind_label(lang, conf.kind), conf.unit or "",
                   t(lang, f"conf.status.{conf.status.value}")]
        for person in people:
            lines.append([*meeting, person.user_id, answer_label(lang, person.answer, person.waitlist_position),
                          person.waitlist_position or "", f"{person.answered_at.astimezone(tz):%Y-%m-%d %H:%M}"])
        if not people:
            lines.append([*meeting, "", "", "", ""])
    return csv_bytes([t(lang, f"conf.csv.{name}") for name in COLUMNS], lines)


def csv_filename(conf: Conference) -> str:
    slug = "-".join("".join(c if c.isalnum() else " " for c in conf.title.lower()).split())[:40] or "meeting"
    return f"deltagare-{slug}-{conf.start_at:%Y%m%d}.csv"
