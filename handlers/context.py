"""Typed access to the services the handlers share, stored once in `bot_data` at start-up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram.ext import ContextTypes

from desk.service import Desk

if TYPE_CHECKING:
    # The app hands its settings over in bot_data; the channel only reads them.
    from app.config import Settings

DESK_KEY = "desk"
SETTINGS_KEY = "settings"


def desk_of(context: ContextTypes.DEFAULT_TYPE) -> Desk:
    return context.bot_data[DESK_KEY]


def settings_of(context: ContextTypes.DEFAULT_TYPE) -> Settings:
    return context.bot_data[SETTINGS_KEY]
