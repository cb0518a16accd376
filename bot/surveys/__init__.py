"""The surveys capability: pulse surveys and quick polls (registers its commands, actions, forms,
due items and App Home section on import)."""

from bot.surveys import flows  # noqa: F401  (registers on import)
