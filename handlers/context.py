"""Typed access to the services the handlers share, stored once in `bot_data` at start-up."""

from __future__ import annotations

from telegram.ext import ContextTypes

from desk.config import Settings
from desk.service import Desk

DESK_KEY = "desk"
SETTINGS_KEY = "settings"


def desk_of(context: ContextTypes.DEFAULT_TYPE) -> Desk:
    return context.bot_data[DESK_KEY]


def settings_of(context: ContextTypes.DEFAULT_TYPE) -> Settings:
    return context.bot_data[SETTINGS_KEY]
