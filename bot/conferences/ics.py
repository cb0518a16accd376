"""Calendar files (RFC 5545) with the `icalendar` library, importable in Outlook, Google Calendar and Apple.

The UID never changes and SEQUENCE grows with every change, so importing a newer file updates the
entry instead of adding a second one. STATUS says where a meeting stands: TENTATIVE until its
invitations are sent, CONFIRMED after, CANCELLED (a single cancelled meeting is sent with METHOD:CANCEL).
Times carry TZID of the bot's time zone with its VTIMEZONE, so 09:00 stays 09:00 across DST. The same
events make a person's subscribed feed (`feed`), which Outlook and Google poll, so moved meetings move.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vDuration, vText

from bot.conferences.models import Conference
from bot.i18n import t

PRODID = "-//GR SAMSYV//samsyv-bot//SV"


def _material_line(label: str, url: str) -> str:
    """'- Label: URL', or just '- URL' when the label is the address itself (no repeated URLs)."""
    plain = label.strip()
    same = plain.rstrip("/").casefold() in (url.rstrip("/").casefold(), "")
    return f"- {url}" if same else f"- {plain}: {url}"


def _description(conf: Conference, lang: str) -> str:
    parts = [conf.description or ""]
    written = conf.description or ""
    material = [m for m in conf.material if m.url not in written]  # already in the text: not again
    seen: set[str] = set()
    lines = []
    for item in material:
        if item.url in seen:
            continue
        seen.add(item.url)
        lines.append(_material_line(item.label, item.url))
    if lines:
        parts.append(t(lang, "conf.ics.material") + "\n" + "\n".join(lines))
    return "\n\n".join(p for p in parts if p).strip()


def status(conf: Conference) -> str:
    if conf.cancelled:
        return "CANCELLED"
    return "CONFIRMED" if conf.announced_at is not None else "TENTATIVE"


def _event(conf: Conference, tz: ZoneInfo, lang: str, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", conf.uid)
    event.add("dtstamp", stamp)
    event.add("created", conf.created_at)
    event.add("last-modified", conf.updated_at)
    event.add("sequence", conf.sequence)
    summary = conf.title if not conf.cancelled else f"{t(lang, 'conf.ics.cancelled')}: {conf.title}"
    event.add("summary", summary)
    event.add("dtstart", conf.start_at.astimezone(tz))
    event.add("dtend", conf.end_at.astimezone(tz))
    if conf.location:
        event.add("location", vText(conf.location))
    description = _description(conf, lang)
    if description:
        event.add("description", description)
    if conf.material:
        event.add("url", conf.material[0].url)
    event.add("status", status(conf))
    event.add("transp", "OPAQUE")
    return event


def calendar(meetings: list[Conference], tz: ZoneInfo, lang: str, stamp: datetime, name: str | None = None,
             feed: bool = False) -> bytes:
    """One file with every meeting (the export), a single meeting (the "Add to calendar" button), or a
    person's subscribed feed (`feed`: always PUBLISH, cancelled meetings kept as CANCELLED so that
    subscribers see them go, with a refresh hint for the calendar programs)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cancel = not feed and len(meetings) == 1 and meetings[0].cancelled
    cal.add("method", "CANCEL" if cancel else "PUBLISH")
    if name:
        cal.add("x-wr-calname", name)
    if feed:
        cal.add("refresh-interval", vDuration(timedelta(hours=1)), parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", "PT1H")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-timezone", str(tz))
    if meetings:  # VTIMEZONE first: some importers read it before the events that refer to it
        first = min(m.start_at for m in meetings).astimezone(tz).date() - timedelta(days=366)
        last = max(m.end_at for m in meetings).astimezone(tz).date() + timedelta(days=366)
        cal.add_component(Timezone.from_tzid(str(tz), first_date=first, last_date=last))
    for conf in meetings:
        cal.add_component(_event(conf, tz, lang, stamp))
    return bytes(cal.to_ical())


def filename(conf: Conference) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in conf.title.lower()).strip("-")
    slug = "-".join(part for part in slug.split("-") if part)[:40] or "trff"
    return f"{slug}-{conf.start_at:%Y%m%d}.ics"
