"""python-telegram-bot's requests over aiohttp: the same Bot API calls for about a third of httpx's CPU.

Every message the bot sends is one POST; with httpx (PTB's default) that POST was the largest single
cost per message. PTB lets the transport be replaced (`BaseRequest`); this one keeps PTB's behaviour:
form-encoded parameters (multipart when files are sent), the same timeouts and the same exceptions
(`TimedOut` before `NetworkError`), so the desk above it cannot tell the two apart. httpx stays the
fallback (`telegram.http_client = "httpx"`) and is used for SOCKS proxies, which aiohttp lacks.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# PTB's own defaults for HTTPXRequest, so switching transports changes nothing else.
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
CONNECT_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
MEDIA_WRITE_TIMEOUT = 20.0


class AiohttpRequest(BaseRequest):
    """One aiohttp session (its own connection pool) per PTB request object, made at `initialize`."""

    __slots__ = ("_connect", "_pool", "_pool_size", "_proxy", "_read", "_session", "_write")

    def __init__(
        self,
        connection_pool_size: int = 256,
        *,
        read_timeout: float | None = READ_TIMEOUT,
        write_timeout: float | None = WRITE_TIMEOUT,
        connect_timeout: float | None = CONNECT_TIMEOUT,
        pool_timeout: float | None = POOL_TIMEOUT,
        proxy: str | None = None,
    ) -> None:
        if proxy and not proxy.startswith(("http://", "https://")):
            raise ValueError("aiohttp reaches Telegram through http(s) proxies only; use httpx for socks5://")
        self._pool_size = connection_pool_size
        self._read, self._write, self._connect, self._pool = read_timeout, write_timeout, connect_timeout, pool_timeout
        self._proxy = proxy or None
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size)
            # No cookies, no environment proxies: PTB's httpx client takes neither.
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data and request_data.contains_files else None
        timeout = aiohttp.ClientTimeout(
            # aiohttp counts the wait for a pooled connection inside `connect`; the socket's own is sock_connect.
            connect=_sum(_given(pool_timeout, self._pool), _given(connect_timeout, self._connect)),
            sock_connect=_given(connect_timeout, self._connect),
            # aiohttp has no write timeout of its own: a stalled upload is caught by the read that follows it,
            # given the write's time too (an upload of a file takes longer than a text).
            sock_read=_plus(
                _given(read_timeout, self._read), _given(write_timeout, MEDIA_WRITE_TIMEOUT if files else self._write)
            ),
        )
        try:
            async with self._session.request(
                method,
                url,
                data=_body(request_data, files),
                headers={"User-Agent": self.USER_AGENT},
                timeout=timeout,
                proxy=self._proxy,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err


def _body(request_data: RequestData | None, files: dict[str, Any] | None) -> Any:
    """Form-encoded parameters as PTB's httpx request sends them; multipart with the files when there are any."""
    if request_data is None:
        return None
    parameters = request_data.json_parameters
    if not files:
        return parameters or None
    form = aiohttp.FormData(quote_fields=False)
    for name, value in parameters.items():
        form.add_field(name, value)
    for name, part in files.items():
        # PTB gives (file name, content, mime type), or bare bytes for an unnamed part.
        if isinstance(part, tuple):
            filename, content, mime = part
            form.add_field(name, content, filename=filename, content_type=mime)
        else:
            form.add_field(name, part)
    return form


def _given(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _sum(first: float | None, second: float | None) -> float | None:
    """Both limits together; None (wait for ever) if either is unlimited."""
    return None if first is None or second is None else first + second


def _plus(read: float | None, write: float | None) -> float | None:
    """The read's limit with the write's added; None if reading is unlimited (getUpdates' long poll sets it)."""
    return None if read is None else read + (write or 0.0)
