"""The P2 explorers: a grid inside the training cosmologies, readable views, and in a real browser
each slider changes the view, the seed slider the map itself.

The page is built by jupyter-book 1 from a one-page book whose notebook holds, as a cell
output, the HTML written by :func:`gancosmo.viz.widgets.static_explorer_html` for a tiny
random-weight conditional generator: the same route the chapter's output takes into the
rendered book (no kernel, no network, no CDN). Chromium
is driven over the Chrome DevTools Protocol with tornado's websocket client (a Jupyter
dependency already installed), through ``browser.py`` beside this file. Skipped when chromium is
absent, unless GANCOSMO_REQUIRE_BROWSER=1.
The tests above the browser one need no browser.
"""

import asyncio
import base64
import io
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from browser import CDP, chromium_page, find_chromium
from gancosmo.data.intensity import ConstantScale
from gancosmo.evaluation.sampling import TorchEmulator
from gancosmo.models.conditional import conditional_gan
from gancosmo.sims.suites import kids450_grid
from gancosmo.stats import power_spectrum_2d
from gancosmo.viz.widgets import (
    ExplorerPanel,
    hull_grid,
    live_explorer,
    render_panel_image,
    seed_correlation,
    static_explorer_html,
)
from scipy.spatial import Delaunay

#: Where the browser test's explorer starts (the chapter passes explore_omega_m, explore_sigma8, seed).
START = (0.3, 0.8, 0)


def _training_points() -> np.ndarray:
    return np.array([(g["omega_m"], g["sigma8"]) for g in kids450_grid() if g["split"] == "train"])


def _inside(points, om, s8) -> bool:
    return bool(Delaunay(points).find_simplex(np.array([[om, s8]]))[0] >= 0)


def _panel():
    """A random-weight Table A1 generator at width 2, its biases zeroed.

    At PyTorch's initialisation the biases' fixed pattern outweighs the latent (two seeds' maps
    correlate at 0.9998, as a generator that ignores its latent would); without them every pixel is
    the latent's doing, so the test can ask for a visible change between seeds.
    """
    G, _ = conditional_gan(width=2, seed=0)
    with torch.no_grad():
        for name, weights in G.named_parameters():
            if name.endswith("bias"):
                weights.zero_()
    emulator = TorchEmulator(G, ConstantScale(100.0), cond_dim=2)  # network units = kappa / 0.01
    points = _training_points()
    return ExplorerPanel(
        lambda om, s8, seed: emulator.sample(1, seed=seed, labels=(om, s8))[0],
        lambda m: power_spectrum_2d(m, 5.0, np.linspace(200, 4600, 12)),
        inside=lambda om, s8: _inside(points, om, s8),
        label="random weights",
    )


def _pixels(data_url: str) -> np.ndarray:
    """``(H, W, 3)`` uint8 pixels of a ``data:image/png`` URL."""
    from PIL import Image

    assert data_url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB"))


def _map_pixels(data_url: str) -> np.ndarray:
    """The pixels of the map inside a view (:attr:`ExplorerPanel.MAP_BOX`, 10 % in from each side)."""
    px = _pixels(data_url)
    h, w = px.shape[:2]
    left, bottom, width, height = ExplorerPanel.MAP_BOX
    x0, x1 = left + 0.1 * width, left + 0.9 * width
    y0, y1 = 1 - bottom - 0.9 * height, 1 - bottom - 0.1 * height  # image rows run top down
    return px[int(y0 * h) : int(y1 * h), int(x0 * w) : int(x1 * w)].astype(int)


def _changed_fraction(a: str, b: str) -> float:
    """Fraction of map pixels whose colour differs by more than 24 levels (of 255) in some channel."""
    return float((np.abs(_map_pixels(a) - _map_pixels(b)).max(axis=2) > 24).mean())


def test_default_grid_lies_inside_the_training_hull_and_passes_through_the_start():
    points = _training_points()
    assert len(points) == 46
    om, s8 = hull_grid(points, 9, 9, through=START[:2])
    assert om.shape == (9,) and s8.shape == (9, 9)
    assert all(_inside(points, o, s) for i, o in enumerate(om) for s in s8[i])
    assert np.all(np.diff(om) > 0) and np.all(np.diff(s8, axis=1) > 0)
    i = int(np.flatnonzero(om == START[0])[0])
    assert START[1] in s8[i]
    # the columns follow the degeneracy: high sigma_8 at low Omega_m, low at high Omega_m
    assert s8[0].mean() > 1.0 > 0.7 > s8[-1].mean()
    # beyond the hull only where asked for, and then at the grid's edge alone
    om_out, s8_out = hull_grid(points, 5, 5, inset=-0.1)
    outside = np.array([[not _inside(points, o, s) for s in s8_out[i]] for i, o in enumerate(om_out)])
    assert outside[:, [0, -1]].any() and not outside[1:-1, 1:-1].any()
    with pytest.raises(ValueError, match="n_y must be an integer >= 1"):
        hull_grid(points, 3, 0)


def test_a_view_is_at_least_800_px_wide_with_its_heading_inside_the_image():
    panel = _panel()
    fig = panel.figure(0.487, 0.643, 3)  # outside the hull: the longest heading
    try:
        fig.canvas.draw()
        width, height = fig.canvas.get_width_height()
        assert width >= 800
        renderer = fig.canvas.get_renderer()
        for text in fig.texts + [ax.title for ax in fig.axes] + [ax.xaxis.label for ax in fig.axes]:
            if text.get_text():
                box = text.get_window_extent(renderer)
                assert box.x0 >= 0 and box.x1 <= width and box.y0 >= 0 and box.y1 <= height, text.get_text()
        assert "EXTRAPOLATION" in fig.texts[0].get_text()
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    assert _pixels(render_panel_image(panel, 0.3, 0.8, 0)).shape[1] >= 800


def test_seeds_are_independent_latents_and_the_note_says_how_alike_their_maps_are():
    rng = np.random.default_rng(0)
    independent = rng.normal(size=(3, 32, 32))
    assert abs(seed_correlation(independent)) < 0.1
    assert seed_correlation(np.repeat(independent[:1], 3, axis=0)) == pytest.approx(1.0)
    panel = _panel()
    maps = [panel.generate(0.3, 0.8, seed) for seed in (0, 1)]
    assert seed_correlation(maps) < 0.8  # a visible difference
    snippet = static_explorer_html(panel, [0.3], [0.8], [0, 1], progress=False)
    assert f"pixel correlation between the 2 seeds&#x27; maps {seed_correlation(maps):.2f}" in snippet


def test_live_explorer_starts_at_the_parameters_given():
    box = live_explorer(_panel(), 0.6, 1.5, seed=7, omega_m_range=(0.07, 0.55), sigma8_range=(0.4, 1.4))
    s_om, s_s8, s_seed = box.children[0].children
    assert (s_om.value, s_s8.value, s_seed.value) == (0.6, 1.5, 7)
    assert s_om.max >= 0.6 and s_s8.max >= 1.5 and s_seed.max - s_seed.min == 99
    # the view is held in the Output widget's state (no output capture for a batch executor to route), one image,
    # replaced (not appended) when a slider moves
    out = box.children[1]
    first = out.outputs
    assert len(first) == 1 and "image/png" in first[0]["data"]
    s_seed.value = 8
    assert len(out.outputs) == 1 and out.outputs[0]["data"]["image/png"] != first[0]["data"]["image/png"]


def _page(tmp_path):
    om, s8 = hull_grid(_training_points(), 3, 3, through=START[:2])
    snippet = static_explorer_html(_panel(), om, s8, [0, 1], progress=False, start=START)
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


async def _drive(ws_url, url):
    cdp = await CDP.connect(ws_url, reply_timeout=20)
    await cdp.call("Page.enable")
    await cdp.call("Page.navigate", url=url)
    await cdp.wait_for(
        "document.readyState === 'complete' && !!document.querySelector('img[data-role=view]') "
        "&& document.querySelector('img[data-role=view]').complete",
        10,
    )
    results = []
    n = await cdp.js("document.querySelectorAll('input[type=range]').length")
    start = await cdp.js("Array.from(document.querySelectorAll('span[data-value]')).map(s => s.textContent)")
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
        results.append((value_before, value_after, before, after, width))
    cdp.close()
    return n, start, results


def test_static_explorer_sliders_change_the_map_in_chromium(tmp_path):
    chromium = find_chromium()
    page = _page(tmp_path)
    with chromium_page(chromium, tmp_path / "profile") as ws_url:
        n, start, results = asyncio.run(_drive(ws_url, page.as_uri()))
    assert n == 3, "the explorer must show three sliders (Omega_m, sigma_8, seed)"
    assert start == ["0.300", "0.800", "0"], f"the explorer must start at {START}, it showed {start}"
    for d, (v0, v1, before, after, width) in enumerate(results):
        assert (v0, v1) == (("1", "2") if d < 2 else ("0", "1")), (
            f"slider {d} did not move with ArrowRight: {v0} -> {v1}"
        )
        assert before != after, f"moving slider {d} did not change the displayed view"
        assert width >= 800, f"the image shown after moving slider {d} is {width} px wide; accepted are >= 800"
    seed_before, seed_after = results[2][2], results[2][3]
    changed = _changed_fraction(seed_before, seed_after)
    assert changed > 0.3, f"moving the seed changed {changed:.0%} of the map's pixels visibly; accepted is > 30%"
