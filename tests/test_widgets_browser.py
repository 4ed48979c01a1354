"""The static explorer works in a real browser: headless Chromium moves each slider and the map changes.

The page is built by jupyter-book 1 from a one-page book whose notebook holds, as a cell
output, the HTML written by :func:`gancosmo.viz.widgets.static_explorer_html` for a tiny
random-weight conditional generator: the same route the chapter's output takes into the
rendered book (no kernel, no network, no CDN). Chromium
is driven over the Chrome DevTools Protocol with tornado's websocket client (a Jupyter
dependency already installed). Skipped when chromium is absent, unless GANCOSMO_REQUIRE_BROWSER=1.
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import numpy as np
import pytest
from gancosmo.data.intensity import ConstantScale
from gancosmo.evaluation.sampling import TorchEmulator
from gancosmo.models.conditional import conditional_gan
from gancosmo.stats import power_spectrum_2d
from gancosmo.viz.widgets import ExplorerPanel, static_explorer_html


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("GANCOSMO_REQUIRE_BROWSER") == "1":
        pytest.fail("GANCOSMO_REQUIRE_BROWSER=1 but no chromium was found; run `make browser`.")
    pytest.skip(
        "chromium is not installed (run `make browser`); set GANCOSMO_REQUIRE_BROWSER=1 to make this a failure."
    )


def _page(tmp_path):
    G, _ = conditional_gan(width=2, seed=0)  # width 1 at random init gives constant maps
    emulator = TorchEmulator(G, ConstantScale(100.0), cond_dim=2)  # network units = kappa / 0.01
    panel = ExplorerPanel(
        lambda om, s8, seed: emulator.sample(1, seed=seed, labels=(om, s8))[0],
        lambda m: power_spectrum_2d(m, 5.0, np.linspace(200, 4600, 12)),
    )
    snippet = static_explorer_html(panel, [0.2, 0.3, 0.4], [0.6, 0.8, 1.0], [0, 1, 2], dpi=30, progress=False)
    book = tmp_path / "book"
    book.mkdir()
    (book / "_config.yml").write_text(
        "title: explorer test\nexecute:\n  execute_notebooks: 'off'\nonly_build_toc_files: true\n"
    )
    (book / "_toc.yml").write_text("format: jb-book\nroot: explorer\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Static explorer"),
        nbformat.v4.new_code_cell(
            "display(HTML(snippet))",
            outputs=[
                nbformat.v4.new_output(
                    "display_data", data={"text/html": snippet, "text/plain": "<IPython.core.display.HTML object>"}
                )
            ],
        ),
    ]
    nb.metadata["kernelspec"] = dict(name="python3", display_name="Python 3", language="python")
    nbformat.write(nb, book / "explorer.ipynb")
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jb), "build", str(book), "--path-output", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    page = tmp_path / "out" / "_build" / "html" / "explorer.html"
    assert page.exists() and "gancosmo-explorer" in page.read_text()
    return page


class _CDP:
    def __init__(self, ws):
        self.ws, self.n = ws, 0

    async def call(self, method, **params):
        self.n += 1
        await self.ws.write_message(json.dumps(dict(id=self.n, method=method, params=params)))
        while True:
            msg = await asyncio.wait_for(self.ws.read_message(), 20)
            if msg is None:
                raise RuntimeError("the DevTools websocket closed")
            data = json.loads(msg)
            if data.get("id") == self.n:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return data.get("result", {})

    async def js(self, expr):
        r = await self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        return r["result"].get("value")


async def _drive(ws_url, url):
    from tornado.websocket import websocket_connect

    ws = await websocket_connect(ws_url, max_message_size=64 * 2**20)
    cdp = _CDP(ws)
    await cdp.call("Page.enable")
    await cdp.call("Page.navigate", url=url)
    for _ in range(100):
        if await cdp.js(
            "document.readyState === 'complete' && !!document.querySelector('img[data-role=view]') "
            "&& document.querySelector('img[data-role=view]').complete"
        ):
            break
        await asyncio.sleep(0.1)
    results = []
    n = await cdp.js("document.querySelectorAll('input[type=range]').length")
    for d in range(n):
        before = await cdp.js("document.querySelector('img[data-role=view]').src")
        value_before = await cdp.js(f"document.querySelectorAll('input[type=range]')[{d}].value")
        await cdp.js(f"document.querySelectorAll('input[type=range]')[{d}].focus()")
        for kind in ("rawKeyDown", "keyUp"):
            await cdp.call(
                "Input.dispatchKeyEvent",
                type=kind,
                key="ArrowRight",
                code="ArrowRight",
                windowsVirtualKeyCode=39,
                nativeVirtualKeyCode=39,
            )
        await asyncio.sleep(0.2)
        after = await cdp.js("document.querySelector('img[data-role=view]').src")
        value_after = await cdp.js(f"document.querySelectorAll('input[type=range]')[{d}].value")
        width = await cdp.js("document.querySelector('img[data-role=view]').naturalWidth")
        results.append((value_before, value_after, before != after, width))
    ws.close()
    return n, results


def test_static_explorer_sliders_change_the_map_in_chromium(tmp_path):
    chromium = _chromium()
    page = _page(tmp_path)
    profile = tmp_path / "profile"
    proc = subprocess.Popen(
        [
            chromium,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.1)
        else:
            pytest.fail("chromium did not open its DevTools port within 30 s")
        port = int(port_file.read_text().split()[0])
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
        n, results = asyncio.run(_drive(ws_url, page.as_uri()))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert n == 3, "the explorer must show three sliders (Omega_m, sigma_8, seed)"
    for d, (v0, v1, changed, width) in enumerate(results):
        assert (v0, v1) == ("1", "2"), f"slider {d} did not move with ArrowRight: {v0} -> {v1}"
        assert changed, f"moving slider {d} did not change the displayed map"
        assert width and width > 0, f"the image shown after moving slider {d} did not decode"
