"""A small, front-end neutral UI model.

The core describes what to show (messages with buttons, forms with fields); `handlers/blocks.py`
turns it into Block Kit and `bot/console.py` into numbered choices and prompts. Text is Slack
mrkdwn; every user-supplied string goes through `esc()` so nobody can trigger `<!channel>`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field


def esc(text: object) -> str:
    """Escape &, < and > in user-supplied text shown in mrkdwn."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


class Button(BaseModel):
    label: str
    action: str  # the full name a capability registered, e.g. "survey:answer"
    value: str = ""
    style: Literal["primary", "danger"] | None = None
    url: str | None = None


class Header(BaseModel):
    kind: Literal["header"] = "header"
    text: str


class Text(BaseModel):
    kind: Literal["text"] = "text"
    text: str  # mrkdwn
    accessory: Button | None = None


class Markdown(BaseModel):
    """Standard Markdown (an article): Slack's `markdown` block in messages; where that block is not
    allowed (modals, App Home) and in the console, `fallback` (the same text as mrkdwn) is shown."""

    kind: Literal["markdown"] = "markdown"
    text: str
    fallback: str


class Fields(BaseModel):
    kind: Literal["fields"] = "fields"
    items: list[str]


class Context(BaseModel):
    kind: Literal["context"] = "context"
    text: str


class Divider(BaseModel):
    kind: Literal["divider"] = "divider"


class Actions(BaseModel):
    kind: Literal["actions"] = "actions"
    buttons: list[Button]


Block = Annotated[Header | Text | Markdown | Fields | Context | Divider | Actions, Field(discriminator="kind")]


class Message(BaseModel):
    """A message: `text` is the notification fallback, `blocks` what is shown."""

    text: str
    blocks: list[Block] = Field(default_factory=list)

    def buttons(self) -> list[Button]:
        found: list[Button] = []
        for block in self.blocks:
            if isinstance(block, Actions):
                found.extend(block.buttons)
            elif isinstance(block, Text) and block.accessory:
                found.append(block.accessory)
        return found


class Option(BaseModel):
    value: str
    label: str


FieldKind = Literal[
    "text", "multiline", "number", "datetime", "select", "multiselect", "radio", "checkboxes",
    "users", "channels", "conversations",
]


class FormField(BaseModel):
    name: str
    label: str
    kind: FieldKind = "text"
    optional: bool = False
    hint: str | None = None
    placeholder: str | None = None
    options: list[Option] = Field(default_factory=list)
    initial: Any = None
    max_length: int | None = None


class Form(BaseModel):
    """A modal in Slack, a series of prompts in the console."""

    callback: str  # the full name a capability registered, e.g. "conf:create"
    title: str
    submit: str
    close: str
    fields: list[FormField]
    intro: str | None = None
    metadata: str = ""


class Reply(BaseModel):
    """Answer the user who acted: only they see it, unless it belongs in the thread it was asked in."""

    kind: Literal["reply"] = "reply"
    message: Message
    in_thread: bool = False


class OpenForm(BaseModel):
    kind: Literal["open_form"] = "open_form"
    form: Form


class ShowDocument(BaseModel):
    """A read-only view (a modal without submit; printed in the console)."""

    kind: Literal["document"] = "document"
    title: str
    message: Message


class UpdateOrigin(BaseModel):
    """Replace the message whose button was clicked."""

    kind: Literal["update_origin"] = "update_origin"
    message: Message


class FormErrors(BaseModel):
    """Field name -> error text, shown next to the field; nothing was saved."""

    kind: Literal["form_errors"] = "form_errors"
    errors: dict[str, str]


class SendFile(BaseModel):
    """A file for the acting user, uploaded to their DM."""

    kind: Literal["file"] = "file"
    filename: str
    content: bytes
    title: str
    comment: str = ""


Outcome = Annotated[Reply | OpenForm | ShowDocument | UpdateOrigin | FormErrors | SendFile,
                    Field(discriminator="kind")]


def local_time(value: datetime, tz: Any, lang: str) -> str:
    """A readable local date and time, e.g. 'tis 3 mar 2026 09:00'."""
    from bot.i18n import t

    local = value.astimezone(tz)
    weekday = t(lang, f"time.weekday.{local.weekday()}")
    month = t(lang, f"time.month.{local.month}")
    return f"{weekday} {local.day} {month} {local.year} {local:%H:%M}"
