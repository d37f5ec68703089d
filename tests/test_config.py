"""Configuration: config.toml, environment overrides, and clear errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError, load_settings
from knowledge.__main__ import main as knowledge_cli

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_config_loads_with_console_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """The config.toml in the repository is valid and has no token, so the product starts in console mode."""
    monkeypatch.delenv("DESK_TELEGRAM__TOKEN", raising=False)
    settings = load_settings(ROOT / "config.toml")
    assert not settings.telegram.has_token
    assert settings.database.url == f"sqlite:///{ROOT / 'data' / 'crm.sqlite3'}"
    assert settings.knowledge.paths == [ROOT / "knowledge" / "kb"]


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The token and the database URL come from the environment over config.toml."""
    config = tmp_path / "config.toml"
    config.write_text('[telegram]\ntoken = "from-file"\n[database]\nurl = "sqlite:///a.db"\n', encoding="utf-8")
    monkeypatch.setenv("DESK_TELEGRAM__TOKEN", "123:from-env")
    monkeypatch.setenv("DESK_DATABASE__URL", "postgresql+psycopg://u@h/db")
    settings = load_settings(config)
    assert settings.telegram.token.get_secret_value() == "123:from-env"
    assert settings.database.url == "postgresql+psycopg://u@h/db"
    assert "123:from-env" not in repr(settings)


def test_file_values_are_kept_where_env_is_silent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Overriding one key of a section keeps the file's other keys in that section."""
    config = tmp_path / "config.toml"
    config.write_text('[telegram]\nbase_url = "http://127.0.0.1:9/bot"\n', encoding="utf-8")
    monkeypatch.setenv("DESK_TELEGRAM__TOKEN", "1:x")
    settings = load_settings(config)
    assert settings.telegram.base_url == "http://127.0.0.1:9/bot"


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ('[telegram]\nbase_url = "ftp://x"\n', "telegram.base_url"),
        ('[desk]\ntimezone = "Mars/Base"\n', "desk.timezone"),
        ('[database]\nurl = "mysql://x"\n', "database.url"),
        ('[roles]\nstaff = ["abc"]\n', "roles.staff"),
        ('[telegram]\ntokn = "x"\n', "telegram.tokn"),
        ("[telegram\n", "not valid TOML"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, content: str, named: str) -> None:
    """A wrong value stops start-up with a message naming the file and the key."""
    config = tmp_path / "config.toml"
    config.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings(config)
    assert named in str(error.value) and str(config) in str(error.value)


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    """Asking for a config file that is not there is an error, not silent defaults."""
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("DESK_DESK__TIMEZON", "Asia/Tokyo", "environment variable DESK_DESK__TIMEZON (desk.timezon): unknown key"),
        ("DESK_DESK__TIMEZONE", "Mars/Base", "environment variable DESK_DESK__TIMEZONE (desk.timezone): "),
        ("desk_flood__max_messages", "many", "environment variable desk_flood__max_messages (flood.max_messages): "),
        ("DESK_ROLES__STAFF", "[1, 'x']", "environment variable DESK_ROLES__STAFF: cannot be read"),
        ("DESK_DESKK__TIMEZONE", "Asia/Tokyo", "environment variable DESK_DESKK__TIMEZONE: no section 'deskk'"),
        ("DESK_TELEGRAM_TOKEN", "1:x", "DESK_TELEGRAM_TOKEN: sets nothing; did you mean DESK_TELEGRAM__TOKEN"),
        ("DESK_STAFF_GROUP_CHAT_ID", "-100", "did you mean DESK_STAFF_GROUP__CHAT_ID"),
    ],
)
def test_a_bad_environment_variable_is_named_not_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, said: str
) -> None:
    """A typo or a bad value in the environment is reported as that variable's, and the file is not blamed."""
    config = tmp_path / "config.toml"
    config.write_text('[desk]\ntimezone = "Asia/Shanghai"\n[flood]\nmax_messages = 5\n', encoding="utf-8")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_settings(config)
    assert said in str(error.value) and str(config) not in str(error.value)


def test_the_file_is_named_for_its_own_values_even_with_the_environment_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad value in the file names the file and the key (and the variable that could override it), beside a
    good variable for another key."""
    config = tmp_path / "config.toml"
    config.write_text('[desk]\ntimezone = "Mars/Base"\n', encoding="utf-8")
    monkeypatch.setenv("DESK_DESK__BUSINESS_NAME", "小店")
    with pytest.raises(ConfigError) as error:
        load_settings(config)
    [problem] = str(error.value).splitlines()[1:]
    assert problem.startswith(f"  {config}: desk.timezone: ") and "or set DESK_DESK__TIMEZONE" in problem
    assert "BUSINESS_NAME" not in problem


def test_other_programs_desk_variables_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A DESK_ name with no section in it (the test suite's own switches) is not a setting and not an error; a
    whole section as JSON is."""
    monkeypatch.setenv("DESK_REQUIRE_POSTGRES", "1")
    monkeypatch.setenv("DESK_TEST_POSTGRES_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("DESK_FLOOD", '{"max_messages": 3}')
    settings = load_settings(ROOT / "config.toml")
    assert settings.flood.max_messages == 3


def test_the_review_command_line_reports_a_bad_variable_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DESK_DESK__TIMEZON", "Asia/Tokyo")
    assert knowledge_cli(["review", "--config", str(ROOT / "config.toml"), "list"]) == 1
    assert "environment variable DESK_DESK__TIMEZON (desk.timezon): unknown key" in capsys.readouterr().err
