"""Turn the core's UI model into Block Kit, and modal state back into plain values.

Core text is mrkdwn with user input already escaped; plain_text fields get it unescaped (plain_text
never expands mentions). Everything is clipped to Block Kit's limits.
"""

from __future__ import annotations

import html
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.ui import (
    Actions,
    Block,
    Button,
    Context,
    Divider,
    Fields,
    Form,
    FormField,
    Header,
    Markdown,
    Message,
    Text,
    clip,
)

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_LIMIT = 3000


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(html.unescape(text), limit) or " ", "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_LIMIT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text, limit) or " "}


def button(b: Button, action_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "button", "text": plain(b.label, 75), "action_id": action_id}
    if b.value:
        out["value"] = clip(b.value, 2000)
    if b.style:
        out["style"] = b.style
    if b.url:
        out["url"] = clip(b.url, 3000)
    return out


def _chunks(text: str, size: int) -> list[str]:
    """Split long text on line breaks so that each section stays under the limit."""
    parts, current = [], ""
    for line in text.split("\n"):
        while len(line) > size:
            parts.append(line[:size])
            line = line[size:]
        if len(current) + len(line) + 1 > size:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    parts.append(current)
    return [p for p in parts if p.strip()] or [" "]


MARKDOWN_LIMIT = 12_000


def blocks(items: list[Block], limit: int = MAX_MESSAGE_BLOCKS, markdown: bool = True) -> list[dict[str, Any]]:
    """Block Kit for `items`; `markdown=False` where Slack has no markdown block (modals, App Home)."""
    out: list[dict[str, Any]] = []
    used_ids: set[str] = set()

    def unique(action: str) -> str:
        action_id, n = action[:240], 1
        while action_id in used_ids:
            n += 1
            action_id = f"{action[:240]}|{n}"
        used_ids.add(action_id)
        return action_id

    for item in items:
        if isinstance(item, Header):
            out.append({"type": "header", "text": plain(item.text, 150)})
        elif isinstance(item, Markdown) and markdown:
            out.append({"type": "markdown", "text": clip(item.text, MARKDOWN_LIMIT)})
        elif isinstance(item, Text | Markdown):
            text = item.fallback if isinstance(item, Markdown) else item.text
            chunks = _chunks(text, SECTION_LIMIT)
            for index, chunk in enumerate(chunks):
                section: dict[str, Any] = {"type": "section", "text": mrkdwn(chunk)}
                if isinstance(item, Text) and item.accessory and index == len(chunks) - 1:
                    section["accessory"] = button(item.accessory, unique(item.accessory.action))
                out.append(section)
        elif isinstance(item, Fields):
            for start in range(0, len(item.items), 10):
                out.append({"type": "section", "fields": [mrkdwn(f, 2000) for f in item.items[start:start + 10]]})
        elif isinstance(item, Context):
            out.append({"type": "context", "elements": [mrkdwn(item.text, 3000)]})
        elif isinstance(item, Divider):
            out.append({"type": "divider"})
        elif isinstance(item, Actions):
            for start in range(0, len(item.buttons), 25):
                out.append({"type": "actions", "elements": [button(b, unique(b.action))
                                                            for b in item.buttons[start:start + 25]]})
    if len(out) > limit:
        out = out[: limit - 1] + [{"type": "context", "elements": [mrkdwn("…")]}]
    return out


def message_kwargs(message: Message) -> dict[str, Any]:
    return {"text": clip(message.text, 3000), "blocks": blocks(message.blocks)}


def action_name(action_id: str) -> str:
    """Undo the suffix added to keep action ids unique within a message."""
    return action_id.split("|", 1)[0]


def _options(field: FormField) -> list[dict[str, Any]]:
    return [{"text": plain(o.label, 75), "value": clip(o.value, 150)} for o in field.options[:100]]


def _element(field: FormField, tz: ZoneInfo) -> list[tuple[str, dict[str, Any], str]]:
    """(block_id suffix, element, label) for the field; a date-time is a date and a time picker."""
    kind = field.kind
    element: dict[str, Any]
    if kind in {"text", "multiline", "number"}:
        element = {"type": "plain_text_input", "action_id": "value", "multiline": kind == "multiline"}
        if field.max_length:
            element["max_length"] = min(field.max_length, 3000)
        if field.initial not in (None, ""):
            element["initial_value"] = str(field.initial)
        if field.placeholder:
            element["placeholder"] = plain(field.placeholder, 150)
        return [("", element, field.label)]
    if kind == "datetime":
        date_el: dict[str, Any] = {"type": "datepicker", "action_id": "value"}
        time_el: dict[str, Any] = {"type": "timepicker", "action_id": "value", "timezone": str(tz)}
        if isinstance(field.initial, datetime):
            local = field.initial.astimezone(tz)
            date_el["initial_date"] = local.strftime("%Y-%m-%d")
            time_el["initial_time"] = local.strftime("%H:%M")
        return [("", date_el, field.label), ("__time", time_el, f"{field.label} ({tz})")]
    if kind in {"select", "radio"}:
        element = {"type": "static_select" if kind == "select" else "radio_buttons", "action_id": "value",
                   "options": _options(field) if kind == "select" else _options(field)[:10]}
        initial = next((o for o in element["options"] if o["value"] == field.initial), None)
        if initial:
            element["initial_option"] = initial
        return [("", element, field.label)]
    if kind in {"multiselect", "checkboxes"}:
        element = {"type": "multi_static_select" if kind == "multiselect" else "checkboxes", "action_id": "value",
                   "options": _options(field) if kind == "multiselect" else _options(field)[:10]}
        chosen = [o for o in element["options"] if field.initial and o["value"] in field.initial]
        if chosen:
            element["initial_options"] = chosen
        return [("", element, field.label)]
    select_type = {"users": "multi_users_select", "channels": "multi_channels_select",
                   "conversations": "multi_conversations_select"}[kind]
    element = {"type": select_type, "action_id": "value"}
    if field.initial:
        key = {"users": "initial_users", "channels": "initial_channels",
               "conversations": "initial_conversations"}[kind]
        element[key] = list(field.initial)
    return [("", element, field.label)]


def form_view(form: Form, tz: ZoneInfo) -> dict[str, Any]:
    view_blocks: list[dict[str, Any]] = []
    if form.intro:
        view_blocks.append({"type": "section", "text": mrkdwn(form.intro)})
    for field in form.fields:
        for suffix, element, label in _element(field, tz):
            block: dict[str, Any] = {"type": "input", "block_id": f"{field.name}{suffix}"[:255],
                                     "label": plain(label, 2000), "element": element, "optional": field.optional}
            if field.hint and not suffix:
                block["hint"] = plain(field.hint, 2000)
            view_blocks.append(block)
    return {"type": "modal", "callback_id": form.callback[:255], "title": plain(form.title, 24),
            "submit": plain(form.submit, 24), "close": plain(form.close, 24),
            "private_metadata": form.metadata[:3000], "blocks": view_blocks[:MAX_VIEW_BLOCKS]}


def document_view(title: str, message: Message, close: str) -> dict[str, Any]:
    return {"type": "modal", "title": plain(title, 24), "close": plain(close, 24),
            "blocks": blocks(message.blocks, MAX_VIEW_BLOCKS, markdown=False)}


def home_view(items: list[Block]) -> dict[str, Any]:
    return {"type": "home", "blocks": blocks(items, MAX_VIEW_BLOCKS, markdown=False)}


def _state_value(element: dict[str, Any]) -> Any:
    kind = element.get("type")
    if kind == "plain_text_input":
        value = element.get("value")
        return value if value not in (None, "") else None
    if kind in {"static_select", "radio_buttons"}:
        option = element.get("selected_option")
        return option["value"] if option else None
    if kind in {"multi_static_select", "checkboxes"}:
        return [o["value"] for o in element.get("selected_options") or []]
    if kind == "multi_users_select":
        return list(element.get("selected_users") or [])
    if kind == "multi_channels_select":
        return list(element.get("selected_channels") or [])
    if kind == "multi_conversations_select":
        return list(element.get("selected_conversations") or [])
    if kind == "datepicker":
        return element.get("selected_date")
    if kind == "timepicker":
        return element.get("selected_time")
    return element.get("value")


def form_values(view: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """Modal state -> {field name: value}; a date and time picker pair becomes one aware datetime."""
    values: dict[str, Any] = {}
    state = view.get("state", {}).get("values", {})
    for block_id, elements in state.items():
        element: dict[str, Any] = elements.get("value") or next(iter(elements.values()), {})
        values[block_id] = _state_value(element)
    for key in [k for k in values if k.endswith("__time")]:
        name = key.removesuffix("__time")
        clock, day = values.pop(key), values.get(name)
        values[name] = None
        if day is not None and clock is not None:
            values[name] = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=tz)
    return values


def form_errors(errors: dict[str, str], view: dict[str, Any]) -> dict[str, str]:
    """Errors keyed by field name -> by block id; form-wide errors go to the first input."""
    block_ids = [b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"]
    out: dict[str, str] = {}
    for name, text in errors.items():
        target = name if name in block_ids else (block_ids[0] if block_ids else name)
        out[target] = clip(html.unescape(text), 2000)
    return out
