"""Series templates from `content/meetings/*.yaml`: the process meetings of a school year in one go.

A template holds no real dates. The lead picks the first meeting's date and time; the others follow on
the same weekday at the same *local* time, so a series that crosses a daylight-saving change still meets
at 09:00 on the wall clock. With a school calendar (bot/schoolyear.py) the meetings are spread over the
school weeks that remain of the school year, in the proportions of their `week_offset`s, so a series
started in January still ends before sommarlov and none lands in a holiday; without one they fall
`week_offset` weeks after the first.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, Field, ValidationError

from bot.conferences.models import Kind, MaterialLink
from bot.schoolyear import SchoolCalendar


class Localized(BaseModel):
    sv: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.sv


class TemplateLink(BaseModel):
    label: Localized
    url: str


class TemplateMeeting(BaseModel):
    number: int
    week_offset: int = Field(ge=0, le=60)
    title: Localized
    theme: Localized
    material: list[TemplateLink] = Field(default_factory=list)
    duration_minutes: int | None = Field(default=None, ge=15, le=24 * 60)


class SeriesTemplate(BaseModel):
    id: str
    kind: Kind = Kind.process
    name: Localized
    note: Localized | None = None
    duration_minutes: int = Field(default=120, ge=15, le=24 * 60)
    meetings: list[TemplateMeeting] = Field(min_length=1)

    def materials(self, meeting: TemplateMeeting, lang: str) -> list[MaterialLink]:
        return [MaterialLink(label=m.label.get(lang), url=m.url) for m in meeting.material]


class ProposedMeeting(BaseModel):
    meeting: TemplateMeeting
    start_at: datetime  # aware UTC
    end_at: datetime
    holiday: str | None = None  # the holiday it falls in (only the lead's own first date can): tell the lead


@lru_cache(maxsize=8)
def _load(directory: str, _fingerprint: tuple[tuple[str, float], ...]) -> tuple[SeriesTemplate, ...]:
    found = []
    for path in sorted(Path(directory).glob("*.yaml")):
        found.append(SeriesTemplate(**yaml.safe_load(path.read_text(encoding="utf-8"))))
    return tuple(found)


def _fingerprint(directory: Path) -> tuple[tuple[str, float], ...]:
    """File names and modification times: an edited template is read again, an unchanged one is not."""
    return tuple((p.name, p.stat().st_mtime) for p in sorted(directory.glob("*.yaml")))


def load_templates(content_dir: Path) -> list[SeriesTemplate]:
    directory = content_dir / "meetings"
    return list(_load(str(directory), _fingerprint(directory)))


def check_templates(directory: Path) -> list[str]:
    """Every problem in the meeting templates as "file: field: message", for `samsyv content check`."""
    problems: list[str] = []
    ids: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            template = SeriesTemplate(**(yaml.safe_load(path.read_text(encoding="utf-8")) or {}))
        except yaml.YAMLError as exc:
            problems.append(f"{path}: not valid YAML: {exc}")
            continue
        except (ValidationError, TypeError) as exc:
            errors = exc.errors() if isinstance(exc, ValidationError) else [{"loc": (), "msg": str(exc)}]
            problems += [f"{path}: {'.'.join(str(p) for p in e['loc']) or 'template'}: {e['msg']}" for e in errors]
            continue
        if template.id in ids:
            problems.append(f"{path}: id: '{template.id}' is also used by {ids[template.id]}")
        ids[template.id] = str(path)
        numbers = [m.number for m in template.meetings]
        if len(set(numbers)) != len(numbers):
            problems.append(f"{path}: meetings: two meetings have the same number")
        offsets = [m.week_offset for m in template.meetings]
        if offsets != sorted(offsets):
            problems.append(f"{path}: meetings: week_offset must grow from one meeting to the next")
        for meeting in template.meetings:
            for link in meeting.material:
                if not link.url.startswith(("https://", "http://")):
                    problems.append(f"{path}: meetings.{meeting.number}.material: '{link.url}' is not a web link")
    return problems


def find_template(content_dir: Path, template_id: str | None) -> SeriesTemplate | None:
    return next((t for t in load_templates(content_dir) if t.id == template_id), None)


def _weeks_after_first(template: SeriesTemplate, first_monday: date,
                      calendar: SchoolCalendar | None) -> list[date]:
    """Monday of each meeting's week, in meeting order."""
    meetings = sorted(template.meetings, key=lambda m: m.number)
    if calendar is None:
        return [first_monday + timedelta(weeks=m.week_offset) for m in meetings]
    later = [w for w in calendar.school_weeks(first_monday + timedelta(days=7), len(meetings) - 1)]
    weeks = [first_monday]
    span = max(m.week_offset for m in meetings) or 1
    last_index = -1
    for position, meeting in enumerate(meetings[1:], 1):
        remaining = len(meetings) - position  # meetings still to place, this one included
        wanted = round(meeting.week_offset / span * (len(later) - 1)) if len(later) > 1 else 0
        index = min(max(wanted, last_index + 1), len(later) - remaining)
        weeks.append(later[index])
        last_index = index
    return weeks


def propose(template: SeriesTemplate, first_start: datetime, tz: ZoneInfo,
            calendar: SchoolCalendar | None = None) -> list[ProposedMeeting]:
    """Dates for every meeting: the first where the lead put it, the others on the same weekday and
    wall-clock time in the weeks `_weeks_after_first` picks."""
    local_first = first_start.astimezone(tz).replace(tzinfo=None)
    first_monday = local_first.date() - timedelta(days=local_first.weekday())
    meetings = sorted(template.meetings, key=lambda m: m.number)
    proposed = []
    for meeting, monday in zip(meetings, _weeks_after_first(template, first_monday, calendar), strict=True):
        local_start = datetime.combine(monday + timedelta(days=local_first.weekday()), local_first.time())
        minutes = meeting.duration_minutes or template.duration_minutes
        local_end = local_start + timedelta(minutes=minutes)
        holiday = calendar.holiday_on(local_start.date()) if calendar is not None else None
        proposed.append(ProposedMeeting(meeting=meeting, start_at=local_start.replace(tzinfo=tz).astimezone(UTC),
                                        end_at=local_end.replace(tzinfo=tz).astimezone(UTC), holiday=holiday))
    return proposed
