"""The article format shared by the content team and the question answerer."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SUMMARY_MAX = 300


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=300)
    url: str

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/$.?#].[^\s]*$", value):
            raise ValueError("must be an http(s) URL")
        return value


class Article(BaseModel):
    """One article in one language; the Swedish and English versions share the id."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ID_PATTERN, max_length=80)
    lang: Literal["sv", "en"]
    title: str = Field(min_length=3, max_length=150)
    summary: str = Field(min_length=20, max_length=SUMMARY_MAX)
    audience: Literal["staff", "pupils", "both", "project-team"]
    tags: list[str] = Field(default_factory=list)
    synonyms: list[str] = Field(default_factory=list)
    questions: list[str] = Field(min_length=8, max_length=60)
    sources: list[Source] = Field(min_length=1)
    updated: dt.date
    reviewed: dt.date | None = None  # last fact-check against the sources; `content check` warns after 12 months
    scope: str | None = Field(default=None, max_length=400)  # what this article does not cover, and which does
    related: list[str] = Field(default_factory=list)
    body: str = Field(min_length=50)
    path: str = ""

    @field_validator("tags", "synonyms", "questions", "related", mode="before")
    @classmethod
    def _strings(cls, value: object) -> object:
        if isinstance(value, list):
            return [str(v) for v in value]
        return value

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.lang)
