"""Form input -> a Draft, or errors keyed by field name (shown next to the field; nothing is saved).

Payloads can be forged, so nothing here trusts Slack's own checks (required fields, max lengths).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.conferences.models import Draft, Kind, MaterialLink
from bot.conferences.views import LOCATION_MAX, SURVEY_MAX, TEXT_MAX, TITLE_MAX, UNIT_MAX
from bot.dates import UnclearDate, form_moment
from bot.i18n import t
from bot.ui import esc

URL = re.compile(r"https?://[^\s<>|]+")
SLACK_ID = re.compile(r"^[A-Z0-9][A-Z0-9_]{1,40}$")
CAPACITY_MAX = 5000
MATERIAL_MAX = 10
MAX_AHEAD = timedelta(days=2 * 366)
MAX_LENGTH = timedelta(days=7)


def text(values: dict[str, Any], name: str, limit: int, errors: dict[str, str], lang: str,
         required: bool = False) -> str | None:
    raw = values.get(name)
    value = str(raw).strip() if raw is not None else ""
    if not value:
        if required:
            errors[name] = t(lang, "errors.required")
        return None
    if len(value) > limit:
        errors[name] = t(lang, "errors.too_long", limit=limit)
    return value


def moment(values: dict[str, Any], name: str, errors: dict[str, str], lang: str, now: datetime,
           tz: Any) -> datetime | None:
    """A picked or typed date and time ("nästa tisdag 9"), read by the one date parser."""
    try:
        value = form_moment(values.get(name), now, tz)
    except UnclearDate as exc:
        errors[name] = exc.render(lang)
        return None
    if value is None:
        errors[name] = t(lang, "errors.required")
    return value


def capacity(values: dict[str, Any], errors: dict[str, str], lang: str) -> int | None:
    raw = values.get("capacity")
    if raw is None or str(raw).strip() == "":
        return None
    try:
        number = int(str(raw).strip())
    except ValueError:
        errors["capacity"] = t(lang, "conf.errors.capacity_number")
        return None
    if number < 1:
        errors["capacity"] = t(lang, "conf.errors.capacity_min")
    elif number > CAPACITY_MAX:
        errors["capacity"] = t(lang, "conf.errors.capacity_max", limit=CAPACITY_MAX)
    return number


def material(raw: str | None, errors: dict[str, str], lang: str) -> list[MaterialLink]:
    """One link per line: 'Label | https://…', 'Label https://…' or a bare URL."""
    links: list[MaterialLink] = []
    for line in (raw or "").splitlines():
        line = line.strip()
        if not line:
            continue
        match = URL.search(line)
        if match is None:
            errors["material"] = t(lang, "conf.errors.material_line", line=esc(line[:60]))
            return []
        url = match.group(0).rstrip(".,;)")
        label = (line[:match.start()] + line[match.end():]).strip(" |-–:\t") or url
        links.append(MaterialLink(label=label[:150], url=url))
    if len(links) > MATERIAL_MAX:
        errors["material"] = t(lang, "conf.errors.material_many", limit=MATERIAL_MAX)
    return links


def slack_ids(values: dict[str, Any], name: str, errors: dict[str, str], lang: str) -> list[str]:
    raw = values.get(name) or []
    items = [raw] if isinstance(raw, str) else list(raw)
    found: list[str] = []
    for item in items:
        value = str(item).strip()
        if not SLACK_ID.match(value):
            errors[name] = t(lang, "conf.errors.bad_id", value=esc(value[:40]))
            return []
        if value not in found:
            found.append(value)
    return found


def checked(values: dict[str, Any], name: str) -> bool:
    raw = values.get(name) or []
    return "yes" in ([raw] if isinstance(raw, str) else raw)


def meeting_draft(values: dict[str, Any], lang: str, now: datetime, tz: Any,
                  previous_start: datetime | None = None) -> tuple[Draft | None, dict[str, str]]:
    """Check a create or edit form. A start in the past is only an error when the start was changed."""
    errors: dict[str, str] = {}
    title = text(values, "title", TITLE_MAX, errors, lang, required=True)
    kind_raw = values.get("kind") or Kind.other.value
    if kind_raw not in {k.value for k in Kind}:
        errors["kind"] = t(lang, "conf.errors.invalid")
        kind_raw = Kind.other.value
    unit = text(values, "unit", UNIT_MAX, errors, lang)
    location = text(values, "location", LOCATION_MAX, errors, lang)
    description = text(values, "description", TEXT_MAX, errors, lang)
    links = material(text(values, "material", TEXT_MAX, errors, lang), errors, lang)
    survey = text(values, "survey", SURVEY_MAX, errors, lang)
    if survey is not None and not survey.isdigit():  # the surveys capability numbers its surveys
        errors["survey"] = t(lang, "conf.errors.survey_number")
    seats = capacity(values, errors, lang)
    start = moment(values, "start", errors, lang, now, tz)
    end = moment(values, "end", errors, lang, now, tz)
    if start is not None and start != previous_start:
        if start < now:
            errors["start"] = t(lang, "conf.errors.start_past")
        elif start > now + MAX_AHEAD:
            errors["start"] = t(lang, "conf.errors.start_far")
    if start is not None and end is not None and "end" not in errors:
        if end <= start:
            errors["end"] = t(lang, "conf.errors.end_before_start")
        elif end - start > MAX_LENGTH:
            errors["end"] = t(lang, "conf.errors.too_long_meeting")
    if errors or title is None or start is None or end is None:
        return None, errors
    return Draft(title=title, kind=Kind(kind_raw), unit=unit, start_at=start.astimezone(UTC),
                 end_at=end.astimezone(UTC), location=location, capacity=seats, description=description,
                 material=links, survey_id=survey), errors
