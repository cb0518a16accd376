"""The school calendar: Göteborg's terms and holidays, municipality overrides, and meeting series that
keep to the school weeks."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.conferences.templates import load_templates, propose
from bot.interactions import FormSubmission
from bot.runtime import Bot, handle_form
from bot.scheduler import run_due
from bot.schoolyear import calendar_for, check_templates, load_calendars
from bot.settings import CONTENT_DIR
from bot.surveys import service
from bot.users import Actor, Role
from tests.conftest import LEAD

TZ = ZoneInfo("Europe/Stockholm")


def goteborg():  # type: ignore[no-untyped-def]
    calendar = calendar_for(CONTENT_DIR, "goteborg")
    assert calendar is not None
    return calendar


def test_goteborg_holidays_by_their_weeks() -> None:
    calendar = goteborg()
    assert calendar.holiday_on(date(2026, 10, 28)) == "hostlov"  # week 44
    assert calendar.holiday_on(date(2026, 12, 28)) == "jullov"
    assert calendar.holiday_on(date(2027, 1, 5)) == "jullov"
    assert calendar.holiday_on(date(2027, 2, 17)) == "sportlov"  # week 7
    assert calendar.holiday_on(date(2027, 3, 30)) == "pasklov"  # the week after Easter Sunday, 28 March 2027
    assert calendar.holiday_on(date(2027, 7, 27)) == "sommarlov"
    assert calendar.holiday_on(date(2026, 8, 10)) == "sommarlov"
    for school_day in (date(2026, 9, 15), date(2026, 12, 8), date(2027, 1, 19), date(2027, 5, 11)):
        assert calendar.holiday_on(school_day) is None


def test_a_january_series_avoids_sommarlov_and_every_holiday() -> None:
    template = load_templates(CONTENT_DIR)[0]
    first = datetime(2027, 1, 12, 9, 0, tzinfo=TZ)
    meetings = propose(template, first, TZ, goteborg())
    starts = [m.start_at.astimezone(TZ) for m in meetings]
    assert len(starts) == 5 and starts[0] == first
    assert all(s.date() < date(2027, 6, 14) for s in starts), starts  # all before the summer holiday
    assert all(goteborg().holiday_on(s.date()) is None and m.holiday is None for s, m in zip(starts, meetings, strict=True))
    assert all(s.weekday() == 1 and (s.hour, s.minute) == (9, 0) for s in starts)  # Tuesdays 09:00 local
    assert starts == sorted(starts) and len({s.date() for s in starts}) == 5
    # Without a calendar the template's week offsets put meeting 4 in July.
    assert propose(template, first, TZ)[3].start_at.astimezone(TZ).month == 7


def test_an_autumn_series_spreads_over_the_school_year() -> None:
    template = load_templates(CONTENT_DIR)[0]
    meetings = propose(template, datetime(2026, 9, 1, 9, 0, tzinfo=TZ), TZ, goteborg())
    starts = [m.start_at.astimezone(TZ).date() for m in meetings]
    assert starts[0] == date(2026, 9, 1) and starts[-1].year == 2027 and starts[-1] < date(2027, 6, 14)
    assert all(m.holiday is None for m in meetings)


def test_a_first_date_in_a_holiday_is_flagged_for_the_lead() -> None:
    template = load_templates(CONTENT_DIR)[0]
    meetings = propose(template, datetime(2026, 10, 27, 9, 0, tzinfo=TZ), TZ, goteborg())
    assert meetings[0].holiday == "hostlov"
    assert all(m.holiday is None for m in meetings[1:])


def test_a_municipality_file_overrides_weeks_and_dated_years(tmp_path: Path) -> None:
    folder = tmp_path / "calendar"
    folder.mkdir()
    (folder / "goteborg.yaml").write_text((CONTENT_DIR / "calendar" / "goteborg.yaml").read_text("utf-8"), "utf-8")
    (folder / "molndal.yaml").write_text(
        "id: molndal\nname: Mölndal\nextends: goteborg\nholidays:\n  sportlov: {week: 8}\n"
        "years:\n  '2026/27':\n    holidays:\n      pasklov: {first: 2027-03-22, last: 2027-03-26}\n", "utf-8")
    assert check_templates(folder) == []
    molndal = calendar_for(tmp_path, "goteborg", unit="Mölndal, Ekdalsskolan")
    assert molndal is not None and molndal.id == "molndal"
    assert molndal.holiday_on(date(2027, 2, 24)) == "sportlov" and molndal.holiday_on(date(2027, 2, 17)) is None
    assert molndal.holiday_on(date(2027, 3, 23)) == "pasklov" and molndal.holiday_on(date(2027, 3, 30)) is None
    assert molndal.holiday_on(date(2026, 10, 28)) == "hostlov"  # inherited
    assert calendar_for(tmp_path, "goteborg", unit="Okänd skola").id == "goteborg"  # type: ignore[union-attr]


def test_content_check_reports_bad_calendars(tmp_path: Path) -> None:
    folder = tmp_path / "calendar"
    folder.mkdir()
    (folder / "x.yaml").write_text("id: x\nname: X\nterms:\n  autumn: {first_week: 34, last_week: 51}\n"
                                   "  spring: {first_week: 2, last_week: 24}\nholidays:\n  lov: {week: 9}\n", "utf-8")
    (folder / "z.yaml").write_text("id: z\nname: Z\nextends: x\nholidays:\n  sportlov: {}\n", "utf-8")
    (folder / "y.yaml").write_text("id: y\nname: Y\nextends: nowhere\n", "utf-8")
    problems = "\n".join(check_templates(folder))
    assert "unknown holiday 'lov'" in problems and "either week" in problems
    assert "extends 'nowhere'" in problems and "default calendar 'goteborg' is missing" in problems
    assert check_templates(CONTENT_DIR / "calendar") == []
    assert "goteborg" in load_calendars(CONTENT_DIR)


async def test_a_weekly_pulse_skips_the_round_in_paasklov_and_the_lead_is_told(bot: Bot) -> None:
    lead = Actor(user_id=LEAD, role=Role.lead)
    values = {"title": "Veckopuls", "questions": "Hur går det? | skala", "audience_channels": ["C1"],
              "anonymity": "anonymous", "opens_at": "30/3 9:00", "closes_at": "3/4 15:00", "repeat": "weekly",
              "show_results": "no"}
    outcomes = await handle_form(bot, lead, FormSubmission(callback="survey:create", values=values))
    shown = json.dumps([o.model_dump(mode="json") for o in outcomes], ensure_ascii=False)
    assert "hoppas över" in shown and "Göteborg" in shown
    [first] = await service.recent_surveys(bot.db)
    assert first.opens_at is not None and first.opens_at.astimezone(TZ).date() == date(2026, 3, 30)
    bot.clock.set(datetime(2026, 4, 3, 16, 0, tzinfo=TZ))  # type: ignore[attr-defined]
    while await run_due(bot, bot.clock.now()):
        pass
    rounds = sorted(await service.recent_surveys(bot.db), key=lambda s: s.id)
    assert len(rounds) == 2
    assert rounds[1].opens_at is not None
    assert rounds[1].opens_at.astimezone(TZ).date() == date(2026, 4, 13)  # 6 April is påsklov week


async def test_a_survey_closing_in_a_holiday_tells_the_lead(bot: Bot) -> None:
    lead = Actor(user_id=LEAD, role=Role.lead)
    values = {"title": "Sommarenkät", "questions": "Hur var terminen? | skala", "audience_channels": ["C1"],
              "anonymity": "anonymous", "closes_at": "2026-06-26 12:00"}
    outcomes = await handle_form(bot, lead, FormSubmission(callback="survey:create", values=values))
    shown = json.dumps([o.model_dump(mode="json") for o in outcomes], ensure_ascii=False)
    assert "fredag 26 juni kl 12:00 ligger under sommarlovet" in shown
