"""Headless Chromium for the browser tests, driven over the Chrome DevTools Protocol.

:func:`find_chromium` finds the executable (or skips the test), :func:`chromium_page` starts it in a
profile folder and yields the DevTools websocket URL of its page, and :class:`CDP` talks to that page
with tornado's websocket client (a Jupyter dependency). Used by ``test_book_offline.py`` and
``test_widgets_browser.py``; each passes its own extra command-line flags.
"""

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

#: Executable names tried, in this order.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
#: Flags every browser test starts Chromium with, before its own.
HEADLESS_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run")
#: How long Chromium may take to write its DevTools port, in seconds.
PORT_WAIT_S = 30


def find_chromium() -> str:
    """The path of the first Chromium executable on ``PATH``.

    Skips the calling test when there is none, or fails it when ``GANCOSMO_REQUIRE_BROWSER=1``.

    Returns
    -------
    str
        Path of ``chromium``, ``chromium-browser`` or ``google-chrome``.
    """
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("GANCOSMO_REQUIRE_BROWSER") == "1":
        pytest.fail("GANCOSMO_REQUIRE_BROWSER=1 but no chromium was found; run `make browser`.")
    pytest.skip(
        "chromium is not installed (run `make browser`); set GANCOSMO_REQUIRE_BROWSER=1 to make this a failure."
    )


def _page_websocket_url(profile: Path) -> str:
    """The DevTools websocket URL of the page of the Chromium using ``profile``, once its port is open."""
    port_file = profile / "DevToolsActivePort"
    for _ in range(PORT_WAIT_S * 10):
        if port_file.exists() and port_file.read_text().strip():
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"chromium did not open its DevTools port within {PORT_WAIT_S} s")
    port = int(port_file.read_text().split()[0])
    targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
    return next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")


@contextlib.contextmanager
def chromium_page(chromium: str, profile: Path, flags: Sequence[str] = ()) -> Iterator[str]:
    """Run headless Chromium on ``about:blank``; yield the DevTools websocket URL of its page.

    Parameters
    ----------
    chromium : str
        The executable, from :func:`find_chromium`.
    profile : pathlib.Path
        Profile folder (``--user-data-dir``); Chromium writes its DevTools port there.
    flags : sequence of str
        Command-line flags added after :data:`HEADLESS_FLAGS`.

    Yields
    ------
    str
        The ``ws://127.0.0.1:<port>/devtools/page/<id>`` URL. Chromium is terminated on leaving
        the block (killed when it has not exited 10 s later).
    """
    proc = subprocess.Popen(
        [
            chromium,
            *HEADLESS_FLAGS,
            *flags,
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield _page_websocket_url(profile)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


class CDP:
    """A minimal Chrome DevTools Protocol client on one page's websocket that keeps every event it receives.

    Parameters
    ----------
    ws : tornado.websocket.WebSocketClientConnection
        The open websocket (see :meth:`connect`).
    reply_timeout : float
        Seconds to wait for each next message while awaiting a reply.
    """

    def __init__(self, ws, reply_timeout: float):
        self.ws, self.reply_timeout, self.n, self.events = ws, reply_timeout, 0, []

    @classmethod
    async def connect(cls, ws_url: str, reply_timeout: float) -> "CDP":
        """Open the websocket ``ws_url`` (messages up to 64 MiB) and return a client on it."""
        from tornado.websocket import websocket_connect

        return cls(await websocket_connect(ws_url, max_message_size=64 * 2**20), reply_timeout)

    def close(self) -> None:
        """Close the websocket."""
        self.ws.close()

    async def call(self, method: str, **params) -> dict:
        """Send ``method`` with ``params``; return the result of its reply, keeping the events received meanwhile."""
        self.n += 1
        await self.ws.write_message(json.dumps(dict(id=self.n, method=method, params=params)))
        while True:
            msg = await asyncio.wait_for(self.ws.read_message(), self.reply_timeout)
            if msg is None:
                raise RuntimeError("the DevTools websocket closed")
            data = json.loads(msg)
            if data.get("id") == self.n:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return data.get("result", {})
            if "method" in data:
                self.events.append(data)

    async def js(self, expr: str, await_promise: bool = False):
        """The value of the JavaScript expression ``expr`` in the page (awaited when ``await_promise``)."""
        r = await self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=await_promise)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expr}: {r['exceptionDetails']}")
        return r["result"].get("value")

    async def wait_for(self, expr: str, seconds: float) -> bool:
        """Whether ``expr`` became truthy within ``seconds`` (polled every 0.1 s)."""
        for _ in range(int(seconds * 10)):
            if await self.js(expr):
                return True
            await asyncio.sleep(0.1)
        return False
