"""The one date parser: Swedish and English phrases, read in BOT_TIMEZONE from the bot's clock."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.dates import UnclearDate, form_moment, parse_when, say_when

TZ = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)  # Tuesday 1 December 2026, 22:00 in Stockholm


@pytest.mark.parametrize(("typed", "expected"), [
    ("imorgon kl 8", "2026-12-02 08:00"),
    ("i morgon kl 08:00", "2026-12-02 08:00"),
    ("imorgon 8", "2026-12-02 08:00"),
    ("nästa tisdag 9", "2026-12-08 09:00"),
    ("nästa tisdag kl. 9", "2026-12-08 09:00"),
    ("15/3 14:00", "2027-03-15 14:00"),
    ("fredag 15", "2026-12-04 15:00"),
    ("fredag kl 15.30", "2026-12-04 15:30"),
    ("om en vecka", "2026-12-08 22:00"),
    ("om 2 veckor kl 10", "2026-12-15 10:00"),
    ("2027-03-29 09:00", "2027-03-29 09:00"),
    ("2027-03-29", "2027-03-29 09:00"),
    ("2027-03-29T07:00:00+00:00", "2027-03-29 09:00"),
    ("15 mars 2027 kl 10.30", "2027-03-15 10:30"),
    ("tisdag 8 december kl 09:00", "2026-12-08 09:00"),
    ("tomorrow 8am", "2026-12-02 08:00"),
    ("next tuesday 9", "2026-12-08 09:00"),
    ("Tuesday 8 December at 09:00", "2026-12-08 09:00"),
    ("March 15 2pm", "2027-03-15 14:00"),
    ("in a week", "2026-12-08 22:00"),
    ("tisdag", "2026-12-08 09:00"),  # today's 09:00 has passed
    ("kl 14", "2026-12-02 14:00"),  # today's 14:00 has passed
    ("nu", "2026-12-01 22:00"),
    # ISO weeks, as school calendars are written: the week's Monday, or the weekday typed with it.
    ("vecka 3", "2027-01-18 09:00"),
    ("tisdag v. 12 kl 13", "2027-03-23 13:00"),
    ("torsdag v3 14.30", "2027-01-21 14:30"),
    ("onsdag vecka 49", "2026-12-02 09:00"),  # this week
    ("v 12 2027 fredag 14:00", "2027-03-26 14:00"),
    ("vecka 53", "2026-12-28 09:00"),  # 2026 has a week 53
    ("tuesday week 12 1pm", "2027-03-23 13:00"),
    ("fredag nästa vecka", "2026-12-11 09:00"),
    ("next week friday 10", "2026-12-11 10:00"),
    ("nästa vecka", "2026-12-07 09:00"),
    # as people write: the definite weekday, an abbreviation's full stop, a sentence's
    ("tisdagen den 8 december kl 9", "2026-12-08 09:00"),
    ("8 dec. kl 13", "2026-12-08 13:00"),
    ("fre. 15", "2026-12-04 15:00"),
    ("fredag kl 9.30.", "2026-12-04 09:30"),
])
def test_phrases_parse_in_the_bot_time_zone(typed: str, expected: str) -> None:
    parsed = parse_when(typed, NOW, TZ)
    assert parsed.tzinfo is not None
    assert parsed.astimezone(TZ).strftime("%Y-%m-%d %H:%M") == expected


def test_summer_time_keeps_the_wall_clock() -> None:
    parsed = parse_when("15/6 09:00", NOW, TZ)
    assert parsed.astimezone(UTC).hour == 7  # CEST is UTC+2


@pytest.mark.parametrize("typed", ["", "sometime", "imorgon kl 25", "31/2", "fredag den 15", "15/3 och 16/3",
                                   "nästa", "om tre år", "13pm", "2027-02-30",
                                   "vecka 54", "vecka 53 2027", "v 3 15/1", "vecka", "v 3 v 4",
                                   "nästa vecka v 3", "onsdag 8 december"])
def test_unclear_text_is_rejected_with_an_example(typed: str) -> None:
    with pytest.raises(UnclearDate) as caught:
        parse_when(typed, NOW, TZ)
    message = caught.value.render("sv")
    assert "imorgon kl 8" in message and "2027-03-29 09:00" in message
    assert "tomorrow 8am" in caught.value.render("en")


def test_said_back_in_words_and_read_again() -> None:
    when = parse_when("nästa tisdag 9", NOW, TZ)
    assert say_when(when, TZ, "sv", NOW) == "tisdag 8 december kl 09:00"
    assert say_when(when, TZ, "en", NOW) == "Tuesday 8 December at 09:00"
    later = parse_when("15/3 14:00", NOW, TZ)
    assert say_when(later, TZ, "sv", NOW) == "måndag 15 mars 2027 kl 14:00"
    for lang in ("sv", "en"):
        assert parse_when(say_when(later, TZ, lang, NOW), NOW, TZ) == later


def test_form_values_from_a_picker_or_typed() -> None:
    assert form_moment(None, NOW, TZ) is None
    assert form_moment("  ", NOW, TZ) is None
    picked = datetime(2027, 1, 10, 9, 0, tzinfo=TZ)
    assert form_moment(picked, NOW, TZ) == picked
    assert form_moment(datetime(2027, 1, 10, 9, 0), NOW, TZ) == picked
    assert form_moment("10/1 9:00", NOW, TZ) == picked
    with pytest.raises(UnclearDate):
        form_moment("snart", NOW, TZ)


def test_report_days_look_back_and_refuse_times() -> None:
    from datetime import date

    from bot.dates import parse_day

    today = date(2026, 12, 1)
    assert parse_day("2026-08-01", today) == date(2026, 8, 1)
    assert parse_day("1/8", today) == date(2026, 8, 1)  # the latest 1 August, not next year's
    assert parse_day("15/12", today) == date(2025, 12, 15)
    assert parse_day("15 mars 2027", today) == date(2027, 3, 15)  # a given year is kept
    assert parse_day("idag", today) == today
    assert parse_day("vecka 10", today) == date(2026, 3, 2)  # the Monday of the latest week 10
    assert parse_day("v 50", today) == date(2025, 12, 8)
    for unclear in ("imorgon kl 8", "om en vecka", "fredag", "31/2", "x"):
        with pytest.raises(UnclearDate):
            parse_day(unclear, today)
