"""The web console: staff and managers in a browser (or Telegram's Mini App), on the same desk as every channel.

Server-rendered pages (Starlette and Jinja2) with a few lines of plain JavaScript served from here, no
build step and nothing fetched from elsewhere (Telegram's own login script aside). It reaches the desk
only through `desk.service.Desk`, as the Telegram and terminal channels do.
"""

from webconsole.access import ConsoleConfig, LocalLogin
from webconsole.pages import console_app

__all__ = ["ConsoleConfig", "LocalLogin", "console_app"]
