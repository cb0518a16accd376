"""SAMSYV guidance bot: the Slack-free core and runtime."""

__version__ = "0.1.0"
