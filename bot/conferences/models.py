"""What a meeting is, as the rest of the capability sees it (rows from tables.py become these)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from bot.db.engine import as_utc


class Kind(StrEnum):
    startup = "startup"  # uppstartskonferens for a municipality's staff
    process = "process"  # one of the process meetings (träffar) of a school year
    other = "other"


class Status(StrEnum):
    scheduled = "scheduled"
    cancelled = "cancelled"


class Answer(StrEnum):
    """What a person pressed. `waitlist` is a yes that found no free seat."""

    yes = "yes"
    waitlist = "waitlist"
    maybe = "maybe"
    no = "no"


class MaterialLink(BaseModel):
    label: str
    url: str


class Draft(BaseModel):
    """Validated form input for a new or edited meeting (times are aware UTC)."""

    title: str
    kind: Kind = Kind.other
    unit: str | None = None
    start_at: datetime
    end_at: datetime
    location: str | None = None
    capacity: int | None = None
    description: str | None = None
    material: list[MaterialLink] = Field(default_factory=list)
    survey_id: str | None = None


class Conference(Draft):
    """A stored meeting: the lead's input plus what the bot keeps about it."""

    id: int
    uid: str
    kind: Kind
    status: Status = Status.scheduled
    cancel_reason: str | None = None
    sequence: int = 0
    series_id: str | None = None
    series_index: int | None = None
    audience_channels: list[str] = Field(default_factory=list)
    audience_users: list[str] = Field(default_factory=list)
    created_by: str
    created_at: datetime
    updated_at: datetime
    announced_at: datetime | None = None

    @property
    def cancelled(self) -> bool:
        return self.status == Status.cancelled

    @classmethod
    def from_row(cls, row: Any) -> Conference:
        data = dict(row)
        for key in ("start_at", "end_at", "created_at", "updated_at", "announced_at"):
            if data.get(key) is not None:
                data[key] = as_utc(data[key])
        return cls(**data)


class Counts(BaseModel):
    yes: int = 0
    waitlist: int = 0
    maybe: int = 0
    no: int = 0


class RsvpResult(BaseModel):
    answer: Answer
    previous: Answer | None = None
    waitlist_position: int | None = None
    promoted: list[str] = Field(default_factory=list)


class Attendee(BaseModel):
    user_id: str
    answer: Answer
    waitlist_position: int | None = None
    answered_at: datetime


class UpcomingMeeting(BaseModel):
    """A meeting as one person sees it: for App Home, `/syv konferenser` and "när är nästa träff?"."""

    conference: Conference
    answer: Answer | None = None
    waitlist_position: int | None = None

    @property
    def id(self) -> int:
        return self.conference.id

    @property
    def title(self) -> str:
        return self.conference.title

    @property
    def start_at(self) -> datetime:
        return self.conference.start_at
