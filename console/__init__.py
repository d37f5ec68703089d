"""The console channel: the desk in a terminal, through the same channel port as Telegram."""

from console.terminal import CHANNEL, ConsoleChannel, run_console

__all__ = ["CHANNEL", "ConsoleChannel", "run_console"]
