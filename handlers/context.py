"""Typed access to the services the handlers share, stored once in `bot_data` at start-up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram.ext import ContextTypes

from desk.privacy import Offers
from desk.service import Desk

if TYPE_CHECKING:
    # The app hands its settings over in bot_data; the channel only reads them.
    from app.config import Settings

DESK_KEY = "desk"
SETTINGS_KEY = "settings"
OFFERS_KEY = "erase_offers"


def desk_of(context: ContextTypes.DEFAULT_TYPE) -> Desk:
    return context.bot_data[DESK_KEY]


def settings_of(context: ContextTypes.DEFAULT_TYPE) -> Settings:
    return context.bot_data[SETTINGS_KEY]


def offers_of(context: ContextTypes.DEFAULT_TYPE) -> Offers:
    """The erase confirmations waiting for a manager's press (made on first use)."""
    return context.bot_data.setdefault(OFFERS_KEY, Offers())
