"""The school year from `content/calendar/*.yaml`: terms and holidays, so that nothing the bot plans
(meeting series, recurring pulses, nudges, reminders) lands in höstlov, jullov, sportlov, påsklov or
sommarlov without the lead being told.

A calendar is rules (terms as teaching weeks, holidays as week numbers or "the week after Easter")
plus optional dated school years that win over the rules. A municipality's own file may `extends:`
another and give only what differs.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from dateutil.easter import easter
from pydantic import BaseModel, Field, ValidationError, model_validator

HOLIDAYS = ("hostlov", "jullov", "sportlov", "pasklov", "sommarlov")
DEFAULT_CALENDAR = "goteborg"


class TermWeeks(BaseModel):
    first_week: int = Field(ge=1, le=53)
    last_week: int = Field(ge=1, le=53)


class Terms(BaseModel):
    autumn: TermWeeks
    spring: TermWeeks


class HolidayRule(BaseModel):
    week: int | None = Field(default=None, ge=1, le=53)
    after_easter: bool = False  # the week that starts on Easter Monday

    @model_validator(mode="after")
    def _one_rule(self) -> HolidayRule:
        if (self.week is None) == (not self.after_easter):
            raise ValueError("give either week: N or after_easter: true")
        return self


class Span(BaseModel):
    first: date
    last: date

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.last < self.first:
            raise ValueError("last is before first")
        return self

    def holds(self, day: date) -> bool:
        return self.first <= day <= self.last


class SchoolYearDates(BaseModel):
    """One school year's published dates ("2026/27"); each part given wins over the rules."""

    autumn: Span | None = None
    spring: Span | None = None
    holidays: dict[str, Span] = Field(default_factory=dict)


class SchoolCalendar(BaseModel):
    id: str
    name: str
    source: str | None = None
    extends: str | None = None
    terms: Terms
    holidays: dict[str, HolidayRule] = Field(default_factory=dict)
    years: dict[str, SchoolYearDates] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_names(self) -> SchoolCalendar:
        for name in [*self.holidays, *(h for y in self.years.values() for h in y.holidays)]:
            if name not in HOLIDAYS:
                raise ValueError(f"unknown holiday '{name}' (use {', '.join(HOLIDAYS)})")
        for label in self.years:
            if re.fullmatch(r"\d{4}/\d{2}", label) is None:
                raise ValueError(f"school year '{label}' must look like 2026/27")
        return self

    def _terms(self, autumn_year: int) -> tuple[Span, Span]:
        """The autumn term of `autumn_year` and the spring term that follows it."""
        dated = self.years.get(_label(autumn_year))
        autumn = dated.autumn if dated and dated.autumn else Span(
            first=date.fromisocalendar(autumn_year, self.terms.autumn.first_week, 1),
            last=date.fromisocalendar(autumn_year, self.terms.autumn.last_week, 7))
        spring = dated.spring if dated and dated.spring else Span(
            first=date.fromisocalendar(autumn_year + 1, self.terms.spring.first_week, 1),
            last=date.fromisocalendar(autumn_year + 1, self.terms.spring.last_week, 7))
        return autumn, spring

    def holiday_on(self, day: date) -> str | None:
        """The holiday `day` falls in ("sommarlov"), or None on a school week's day."""
        autumn_year = day.year if day.month >= 7 else day.year - 1
        dated = self.years.get(_label(autumn_year))
        if dated is not None:
            for name, span in dated.holidays.items():
                if span.holds(day):
                    return name
        autumn, spring = self._terms(autumn_year)
        if autumn.last < day < spring.first:
            return "jullov"
        if not (autumn.holds(day) or spring.holds(day)):
            return "sommarlov"  # before this autumn term (July, August) or after the spring term (June)
        dated_names = set(dated.holidays) if dated is not None else set()
        week = day.isocalendar()
        for name, rule in self.holidays.items():
            if name in dated_names:
                continue  # this year's published dates replace the rule
            if rule.week is not None and week.week == rule.week:
                return name
            if rule.after_easter:
                monday = easter(day.year) + timedelta(days=1)
                if monday <= day < monday + timedelta(days=7):
                    return name
        return None

    def school_weeks(self, start: date, at_least: int) -> list[date]:
        """Mondays of the school weeks from the week of `start` to the end of its school year (or further
        school years until there are `at_least`). A week counts when its Monday to Friday hold a school day;
        the week each school year ends in is left out (schools finish in it and some days are holiday)."""
        monday = start - timedelta(days=start.weekday())
        autumn_year = start.year if start.month >= 7 else start.year - 1
        year_end = self._terms(autumn_year)[1].last
        weeks: list[date] = []
        while monday <= year_end or len(weeks) < at_least:
            workdays = [monday + timedelta(days=d) for d in range(5)]
            closing = self.holiday_on(monday + timedelta(days=7)) == "sommarlov"
            if not closing and any(self.holiday_on(day) is None for day in workdays):
                weeks.append(monday)
            monday += timedelta(days=7)
            if monday > year_end + timedelta(days=3 * 366):
                break
        return weeks


def _label(autumn_year: int) -> str:
    return f"{autumn_year}/{(autumn_year + 1) % 100:02d}"


def slug(name: str) -> str:
    """'Mölndals stad' -> 'molndals-stad': how a unit typed in a form names a calendar file."""
    plain = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def _raw(directory: Path) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        found[str(data.get("id") or path.stem)] = data
    return found


def _merged(raw: dict[str, dict[str, Any]], calendar_id: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    data = raw[calendar_id]
    parent = data.get("extends")
    if not parent:
        return data
    if parent in seen or parent not in raw:
        raise ValueError(f"extends '{parent}', which is {'a loop' if parent in seen else 'not in this folder'}")
    base = _merged(raw, parent, (*seen, calendar_id))
    merged = {**base, **{k: v for k, v in data.items() if k not in {"holidays", "years"}}}
    merged["holidays"] = {**(base.get("holidays") or {}), **(data.get("holidays") or {})}
    merged["years"] = {**(base.get("years") or {}), **(data.get("years") or {})}
    return merged


@lru_cache(maxsize=8)
def _load(directory: str, _fingerprint: tuple[tuple[str, float], ...]) -> dict[str, SchoolCalendar]:
    raw = _raw(Path(directory))
    return {calendar_id: SchoolCalendar(**_merged(raw, calendar_id)) for calendar_id in raw}


def load_calendars(content_dir: Path) -> dict[str, SchoolCalendar]:
    directory = content_dir / "calendar"
    fingerprint = tuple((p.name, p.stat().st_mtime) for p in sorted(directory.glob("*.yaml")))
    return _load(str(directory), fingerprint)


def calendar_for(content_dir: Path, default: str, unit: str | None = None) -> SchoolCalendar | None:
    """The unit's own calendar when a file is named after it (or after its first word: 'Mölndal, Ekdalsskolan'
    -> molndal), else the configured default; None when the folder has neither."""
    calendars = load_calendars(content_dir)
    for candidate in ([slug(unit), slug(re.split(r"[,/]", unit)[0])] if unit else []):
        if candidate in calendars:
            return calendars[candidate]
    return calendars.get(default)


def school_calendar(settings: Any, unit: str | None = None) -> SchoolCalendar | None:
    """The calendar the bot plans by: the unit's own file, else SCHOOL_CALENDAR."""
    return calendar_for(settings.content_dir, settings.school_calendar, unit)


def check_templates(directory: Path) -> list[str]:
    """Every problem in the school calendars as "file: field: message", for `samsyv content check`."""
    problems: list[str] = []
    if not directory.is_dir():
        return problems
    try:
        raw = _raw(directory)
    except yaml.YAMLError as exc:
        return [f"{directory}: not valid YAML: {exc}"]
    for calendar_id in raw:
        where = directory / f"{calendar_id}.yaml"
        try:
            SchoolCalendar(**_merged(raw, calendar_id))
        except ValidationError as exc:
            problems += [f"{where}: {'.'.join(str(p) for p in e['loc']) or 'calendar'}: {e['msg']}"
                         for e in exc.errors()]
        except (ValueError, TypeError) as exc:
            problems.append(f"{where}: {exc}")
    if DEFAULT_CALENDAR not in raw:
        problems.append(f"{directory}: the default calendar '{DEFAULT_CALENDAR}' is missing")
    return problems


def holiday_note(calendar: SchoolCalendar | None, when: datetime, tz: Any, lang: str,
                 now: datetime | None = None) -> str | None:
    """"tisdag 27 juli kl 09:00 ligger under sommarlovet." for the lead, or None on a school day."""
    from bot.dates import say_when
    from bot.i18n import t

    if calendar is None:
        return None
    holiday = calendar.holiday_on(when.astimezone(tz).date())
    if holiday is None:
        return None
    return t(lang, "dates.in_holiday", when=say_when(when, tz, lang, now), holiday=t(lang, f"dates.holiday.{holiday}"))


def next_school_day(calendar: SchoolCalendar | None, when: datetime, tz: Any) -> datetime:
    """The same wall-clock time on the first day from `when` on that is not in a holiday (or a weekend
    right after one), for recurring rounds; unchanged on a school day."""
    if calendar is None:
        return when
    local = when.astimezone(tz).replace(tzinfo=None)
    moved = local
    for _ in range(120):
        if calendar.holiday_on(moved.date()) is None and not (moved != local and moved.weekday() >= 5):
            break
        moved += timedelta(days=1)
    return local.replace(tzinfo=tz) if moved == local else moved.replace(tzinfo=tz)
