"""The container files, checked as far as this machine allows (no container runtime runs in CI here).

The image's own steps are what CI does anyway (install the project, run bot.py); these tests hold the
Dockerfile and compose.yaml to what the README promises: non-root, health check on /healthz, the
packages the image needs copied in, PostgreSQL wired through DESK_DATABASE__URL.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _instructions() -> list[tuple[str, str]]:
    lines, current = [], ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        if raw.strip().startswith("#") or not raw.strip():
            continue
        current += raw.rstrip("\\").strip() + " "
        if not raw.rstrip().endswith("\\"):
            word, _, rest = current.strip().partition(" ")
            lines.append((word.upper(), rest))
            current = ""
    return lines


def test_the_image_runs_the_bot_as_a_non_root_user_with_a_health_check() -> None:
    steps = _instructions()
    words = [word for word, _ in steps]
    assert words[0] == "FROM" and "slim" in steps[0][1]
    users = [rest for word, rest in steps if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(word == "HEALTHCHECK" and "/healthz" in rest for word, rest in steps)
    assert ("CMD", '["python", "bot.py"]') in steps
    assert any("fonts-noto-cjk" in rest for word, rest in steps if word == "RUN")


def test_the_image_copies_every_package_the_project_installs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {name.rstrip("*") for name in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = {rest.split()[0] for word, rest in _instructions() if word == "COPY"}
    assert packages <= copied, f"not copied into the image: {packages - copied}"


def test_compose_runs_the_desk_on_postgresql_with_a_healthy_database_first() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    desk, postgres = compose["services"]["desk"], compose["services"]["postgres"]
    assert desk["environment"]["DESK_DATABASE__URL"].startswith("postgresql+psycopg://")
    assert desk["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in postgres["healthcheck"]["test"]
