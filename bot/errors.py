"""Errors a user can read: each carries a locale key, rendered in the user's language."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """Bad input or a refused action; nothing was changed."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values

    def render(self, lang: str) -> str:
        from bot.i18n import t

        return t(lang, self.key, **self.values)


class Forbidden(UserError):
    """A refusal; `logged` once it is in the audit log (the runtime logs those that are not yet)."""

    def __init__(self, key: str = "errors.lead_only", **values: Any) -> None:
        super().__init__(key, **values)
        self.logged = False
