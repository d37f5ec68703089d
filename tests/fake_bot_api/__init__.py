"""An in-process fake of the Telegram Bot API, spoken to over real HTTP.

The real ``telegram.Bot`` / ``telegram.ext.Application`` is pointed at it with
``.base_url(fake.base_url)`` and ``.base_file_url(fake.base_file_url)``; tests push updates
(``push_text`` ...) and inspect what the bot did (``calls``, ``sent``, ``wait_for``).

Wire behaviour mirrors ``telegram/request/_baserequest.py``: PTB only reads ``result`` on 2xx
and maps the HTTP status to an exception (400 BadRequest, 403 Forbidden, 401/404 InvalidToken,
429 + ``parameters.retry_after`` RetryAfter, other codes NetworkError).  Unknown methods
therefore answer 400, never 404.
"""

import os

from ._process import FakeBotApiProcess
from ._server import FakeBotApi
from ._thread import FakeBotApiThread
from ._types import ApiCall, ApiError, UploadedFile

__all__ = [
    "ApiCall",
    "ApiError",
    "FakeBotApi",
    "FakeBotApiProcess",
    "FakeBotApiThread",
    "UploadedFile",
    "bypass_proxy_for_loopback",
]


def bypass_proxy_for_loopback() -> None:
    """Make HTTP clients (httpx, also in child processes) skip any proxy for 127.0.0.1/localhost.

    With ``HTTP(S)_PROXY`` set, httpx would otherwise send the loopback requests to the proxy.
    """
    for var in ("NO_PROXY", "no_proxy"):
        hosts = [h for h in os.environ.get(var, "").split(",") if h.strip()]
        os.environ[var] = ",".join(hosts + [h for h in ("127.0.0.1", "localhost") if h not in hosts])
