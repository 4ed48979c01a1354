"""Explorers of a conditional generator over (Omega_m, sigma_8) and the latent seed.

* :func:`live_explorer` -- ipywidgets sliders; needs a running kernel (Jupyter). Each move
  generates a map and plots its power spectrum against pyccl's theory curve and the mean
  spectrum of the nearest training cosmology's simulated maps.
* :func:`static_explorer_html` -- the same view over a precomputed grid (Omega_m x sigma_8 x
  seeds), as one self-contained HTML snippet: base64 PNG images (840 px wide), ``<input type="range">`` sliders
  and a few lines of inline JavaScript that swap the image. No kernel, no network, no
  JavaScript from a CDN: it works in the static HTML book.
* :func:`hull_grid` -- a grid of (Omega_m, sigma_8) inside the training cosmologies' convex
  hull: P2's cosmologies lie along the Omega_m-sigma_8 degeneracy, so a rectangular grid would
  be mostly extrapolation; here every Omega_m column spans the hull's sigma_8 range at that
  Omega_m.

Each latent seed is its own independent draw of the latent vector (the emulator seeds a fresh
generator with it), so two seeds are as far apart as two random latents are: how different
their maps look is the generator's doing, and the static explorer prints it (the pixel
correlation of the seeds' maps: near 0 for independent maps, near 1 for a generator that
ignores its latent).
"""

from __future__ import annotations

import base64
import html
import io
import json
import uuid

import numpy as np

from .common import pyplot

__all__ = [
    "ExplorerPanel",
    "hull_grid",
    "live_explorer",
    "render_panel_image",
    "render_panel_png",
    "seed_correlation",
    "static_explorer_html",
]


def hull_grid(points, n_x: int, n_y: int, inset: float = 0.08, through=None) -> tuple[np.ndarray, np.ndarray]:
    """An ``n_x`` x ``n_y`` grid inside the convex hull of ``points``: one column of y values per x.

    Parameters
    ----------
    points : array_like
        ``(N, 2)`` points (Omega_m, sigma_8) whose convex hull the grid fills (N >= 3, not collinear).
    n_x, n_y : int
        Columns (x values) and values per column (>= 1 each).
    inset : float
        Fraction of each range left free at both ends: the x values span the hull's x range less
        ``inset`` of it at each end, and each column spans the hull's chord at its x less ``inset``
        of the chord at each end (> 0 keeps every point strictly inside; < 0 reaches beyond the
        hull, so that the grid's edge shows extrapolation).
    through : (float, float), optional
        A point the grid must contain (the explorer's start): the nearest x value is moved onto its
        x, and in that column the nearest y value onto its y (inside the hull or not).

    Returns
    -------
    x : numpy.ndarray
        ``(n_x,)`` increasing x values.
    y : numpy.ndarray
        ``(n_x, n_y)``: row ``i`` holds the increasing y values at ``x[i]``.
    """
    from scipy.spatial import ConvexHull

    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3:
        raise ValueError(f"points have shape {pts.shape}; accepted are (N, 2) with N >= 3.")
    for name, n in (("n_x", n_x), ("n_y", n_y)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {n!r}.")
    if not -0.5 < inset < 0.5:
        raise ValueError(f"inset must lie in (-0.5, 0.5), a fraction of each range; got {inset!r}.")
    hull = ConvexHull(pts)
    lo_x, hi_x = pts[hull.vertices, 0].min(), pts[hull.vertices, 0].max()
    span = hi_x - lo_x
    x = np.linspace(lo_x + inset * span, hi_x - inset * span, n_x) if n_x > 1 else np.array([(lo_x + hi_x) / 2])
    if through is not None:
        x[np.argmin(np.abs(x - through[0]))] = through[0]
    y = np.empty((n_x, n_y))
    # a column at or beyond the hull's x extremes (where its chord shrinks to a point) takes the chord
    # a little inside them
    margin = max(inset, 0.05) * span
    for i, xi in enumerate(x):
        lo, hi = _chord(hull.equations, min(max(xi, lo_x + margin), hi_x - margin))
        chord = hi - lo
        y[i] = np.linspace(lo + inset * chord, hi - inset * chord, n_y) if n_y > 1 else (lo + hi) / 2
    if through is not None:
        i = int(np.argmin(np.abs(x - through[0])))
        y[i, np.argmin(np.abs(y[i] - through[1]))] = through[1]
    return x, y


def _chord(equations: np.ndarray, x: float) -> tuple[float, float]:
    """The y range of a convex hull (``a x + b y + c <= 0`` per facet) at abscissa ``x``."""
    lo, hi = -np.inf, np.inf
    for a, b, c in equations:
        if abs(b) < 1e-12:
            continue
        bound = -(a * x + c) / b
        if b > 0:
            hi = min(hi, bound)
        else:
            lo = max(lo, bound)
    return float(lo), float(hi)


def seed_correlation(maps) -> float:
    """Mean Pearson correlation over pixels between the maps of different seeds (``(S, H, W)``, S >= 2).

    Near 0 for independent maps; near 1 when the generator ignores its latent.
    """
    m = np.asarray(maps, dtype=float).reshape(len(maps), -1)
    if len(m) < 2:
        raise ValueError("seed_correlation needs the maps of at least 2 seeds.")
    c = np.corrcoef(m)
    return float(c[~np.eye(len(m), dtype=bool)].mean())


class ExplorerPanel:
    """What one explorer view needs: a generator function, the theory and the nearest simulation.

    Parameters
    ----------
    generate : callable
        ``generate(omega_m, sigma8, seed) -> (H, W)`` convergence map; each seed an independent
        latent draw.
    spectrum : callable
        ``spectrum(map) -> (ell, C_ell)`` (C_ell in sr).
    theory : callable or None
        ``theory(omega_m, sigma8, ell) -> C_ell`` (pyccl), or None to skip the curve.
    nearest : callable or None
        ``nearest(omega_m, sigma8) -> (label, ell, C_ell mean, C_ell std)`` of the nearest
        training cosmology's simulated maps, or None.
    inside : callable
        ``inside(omega_m, sigma8) -> bool``: inside the training cosmologies' hull.
    side_deg : float
        Map side in degrees.
    label : str
        Title of the spectrum panel (e.g. the run's profile).
    """

    #: Figure size in inches; at :data:`DPI` the image is 840 x 352 px, the book's text width.
    FIGSIZE = (10.0, 4.19)
    DPI = 84
    #: Axes rectangles in figure fractions (left, bottom, width, height): the map is a square of
    #: 2.8 in, fixed so that every view of a grid puts its map on the same pixels.
    MAP_BOX = (0.065, 0.12, 0.28, 0.668)
    COLORBAR_BOX = (0.355, 0.12, 0.012, 0.668)
    SPECTRUM_BOX = (0.52, 0.12, 0.46, 0.668)

    def __init__(
        self,
        generate,
        spectrum,
        theory=None,
        nearest=None,
        inside=lambda om, s8: True,
        side_deg: float = 5.0,
        label: str = "",
    ):
        self.generate, self.spectrum, self.theory, self.nearest = generate, spectrum, theory, nearest
        self.inside, self.side_deg, self.label = inside, side_deg, label

    def title(self, omega_m: float, sigma8: float, seed: int) -> str:
        """The view's heading: cosmology, seed, and whether the point lies outside the training cosmologies."""
        where = "" if self.inside(omega_m, sigma8) else " - EXTRAPOLATION: outside the training cosmologies"
        return f"GAN map at Omega_m = {omega_m:.3f}, sigma_8 = {sigma8:.3f}, latent seed {seed}{where}"

    def figure(self, omega_m: float, sigma8: float, seed: int, vlim=None, dpi: int | None = None, kappa_map=None):
        """The view: the generated map (left) and its C_ell against theory and the nearest simulation (right).

        ``kappa_map`` is the map of ``(omega_m, sigma8, seed)`` when already generated.
        """
        plt = pyplot()
        m = np.asarray(self.generate(omega_m, sigma8, seed) if kappa_map is None else kappa_map)
        fig = plt.figure(figsize=self.FIGSIZE, dpi=dpi or self.DPI)
        a, cax, b = (fig.add_axes(box) for box in (self.MAP_BOX, self.COLORBAR_BOX, self.SPECTRUM_BOX))
        inside = bool(self.inside(omega_m, sigma8))
        fig.text(  # the heading spans the figure, above both panels: nothing clips it
            0.5,
            0.95,
            self.title(omega_m, sigma8, seed),
            ha="center",
            va="top",
            fontsize=11,
            color="black" if inside else "#a33",
            wrap=True,
        )
        vmin, vmax = vlim if vlim is not None else (np.quantile(m, 0.005), np.quantile(m, 0.995))
        im = a.imshow(
            m,
            cmap="inferno",
            vmin=vmin,
            vmax=vmax,
            origin="lower",
            extent=(0, self.side_deg, 0, self.side_deg),
            interpolation="nearest",
        )
        a.set(xlabel="deg", ylabel="deg")
        bar = fig.colorbar(im, cax=cax, label=r"$\kappa$")
        # short tick labels (a common factor such as 1e-3 above the bar), clear of the C_ell axis
        bar.formatter.set_powerlimits((-2, 3))
        bar.update_ticks()
        ell, cl = self.spectrum(m[None])
        f = ell * (ell + 1) / (2 * np.pi)
        b.loglog(ell, f * cl[0], "C3", label="this GAN map")
        if self.nearest is not None:
            lab, le, mean, std = self.nearest(omega_m, sigma8)
            fe = le * (le + 1) / (2 * np.pi)
            b.fill_between(le, fe * (mean - std), fe * (mean + std), color="C0", alpha=0.3)
            b.loglog(le, fe * mean, "C0", label=f"simulated, nearest training {lab}")
        if self.theory is not None:
            b.loglog(ell, f * self.theory(omega_m, sigma8, ell), "k--", label="pyccl halofit (Limber)")
        b.set(xlabel=r"multipole $\ell$", ylabel=r"$\ell(\ell+1)C_\ell/2\pi$")
        _multipole_ticks(b)
        if self.label:
            b.set_title(self.label, fontsize=10)
        b.legend(fontsize=8)
        return fig


def _multipole_ticks(ax) -> None:
    """Plain numbers on a log multipole axis: 1000 at the decades, and 200, 500, 2000, 5000 between."""
    from matplotlib.ticker import FuncFormatter

    def label(v, _pos):
        lead = round(v / 10 ** np.floor(np.log10(v)), 6) if v > 0 else 0
        return f"{v:g}" if lead in (1, 2, 5) else ""

    ax.xaxis.set_major_formatter(FuncFormatter(label))
    ax.xaxis.set_minor_formatter(FuncFormatter(label))


def render_panel_image(
    panel: ExplorerPanel, omega_m: float, sigma8: float, seed: int, vlim=None, dpi: int | None = None, kappa_map=None
) -> str:
    """One explorer view as a ``data:image/png`` URL.

    The PNG holds a 256-colour palette (the colour map has 256 levels; the quantised image looks
    the same), a quarter of the bytes of the full-colour one: a grid of views stays a few MB.
    """
    from PIL import Image

    plt = pyplot()
    fig = panel.figure(omega_m, sigma8, seed, vlim=vlim, dpi=dpi, kappa_map=kappa_map)
    fig.canvas.draw()
    rgb = Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3])
    plt.close(fig)
    buf = io.BytesIO()
    rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def render_panel_png(
    panel: ExplorerPanel, omega_m: float, sigma8: float, seed: int, vlim=None, dpi: int | None = None
) -> str:
    """Base64 PNG of one explorer view (no ``data:`` prefix)."""
    return render_panel_image(panel, omega_m, sigma8, seed, vlim, dpi).split(",", 1)[1]


def _axes(omega_m_values, sigma8_values, seeds) -> tuple[list, list, list]:
    om = [float(v) for v in np.ravel(omega_m_values)]
    s8 = np.asarray(sigma8_values, dtype=float)
    if s8.ndim == 2 and s8.shape[0] != len(om):
        raise ValueError(
            f"sigma8_values has {s8.shape[0]} rows but there are {len(om)} omega_m_values; accepted is one "
            "row of sigma_8 values per Omega_m value, or one shared list."
        )
    if s8.ndim not in (1, 2):
        raise ValueError(f"sigma8_values has shape {s8.shape}; accepted are (n,) or (len(omega_m_values), n).")
    seeds = [int(s) for s in seeds]
    for name, n in (("omega_m_values", len(om)), ("sigma8_values", s8.shape[-1]), ("seeds", len(seeds))):
        if n < 1:
            raise ValueError(f"{name} is empty; accepted is at least one value.")
    rows = s8.tolist() if s8.ndim == 2 else [s8.tolist()] * len(om)
    return om, rows, seeds


def _start_index(om: list, rows: list, seeds: list, start) -> list[int]:
    """Grid indices nearest ``start`` = ``(omega_m, sigma8[, seed])`` (None: the middle view, first seed)."""
    if start is None:
        i = len(om) // 2
        return [i, len(rows[i]) // 2, 0]
    i = int(np.argmin(np.abs(np.asarray(om) - start[0])))
    j = int(np.argmin(np.abs(np.asarray(rows[i]) - start[1])))
    k = seeds.index(int(start[2])) if len(start) > 2 and int(start[2]) in seeds else 0
    return [i, j, k]


def static_explorer_html(
    panel: ExplorerPanel,
    omega_m_values,
    sigma8_values,
    seeds,
    vlim=None,
    dpi: int | None = None,
    progress: bool = True,
    start=None,
) -> str:
    """One self-contained HTML snippet: sliders over a precomputed grid of explorer views.

    Parameters
    ----------
    omega_m_values : sequence of float
        Values of the Omega_m slider (at least 1).
    sigma8_values : sequence of float, or 2-D array
        Values of the sigma_8 slider: one list for every Omega_m, or one row per Omega_m value
        (:func:`hull_grid`'s columns: the slider then spans the trained range at that Omega_m).
    seeds : sequence of int
        Latent seeds (third slider), each an independent latent draw.
    vlim : (float, float), optional
        One colour scale for every map (default: each map its own).
    dpi : int, optional
        Image resolution (default :attr:`ExplorerPanel.DPI`: 840 px wide).
    start : (float, float) or (float, float, int), optional
        The view shown first: the grid point nearest ``(omega_m, sigma8)`` (and that seed).
        Default: the middle of the grid, first seed.

    Returns
    -------
    str
        ``<div>`` with three ``<input type="range">``, a note and an ``<img>``, and an
        inline ``<script>`` holding the images as data URIs; show it with ``IPython.display.HTML``.
        The note says whether the point lies inside the training cosmologies and how alike the
        seeds' maps are (:func:`seed_correlation`).
    """
    from ..progress import progress_bar

    om, rows, seeds = _axes(omega_m_values, sigma8_values, seeds)
    images, notes = {}, {}
    total = sum(len(r) for r in rows) * len(seeds)
    with progress_bar(total, "explorer grid", disable=not progress) as bar:
        for i, o in enumerate(om):
            for j, s in enumerate(rows[i]):
                maps = [np.asarray(panel.generate(o, s, seed)) for seed in seeds]
                where = (
                    "inside the training cosmologies"
                    if panel.inside(o, s)
                    else "EXTRAPOLATION: outside the training cosmologies"
                )
                spread = (
                    f"; pixel correlation between the {len(seeds)} seeds' maps {seed_correlation(maps):.2f} "
                    "(independent maps: near 0)"
                    if len(seeds) > 1
                    else ""
                )
                notes[f"{i},{j}"] = where + spread
                for k, seed in enumerate(seeds):
                    key = f"{i},{j},{k}"
                    images[key] = render_panel_image(panel, o, s, seed, vlim, dpi, kappa_map=maps[k])
                    bar.update(1)
    uid = "p2x-" + uuid.uuid4().hex[:10]
    first = _start_index(om, rows, seeds, start)
    values = [om[first[0]], rows[first[0]][first[1]], seeds[first[2]]]
    labels = [
        ("omega_m", "&Omega;<sub>m</sub>", "{:.3f}", len(om)),
        ("sigma8", "&sigma;<sub>8</sub>", "{:.3f}", max(len(r) for r in rows)),
        ("seed", "latent seed", "{}", len(seeds)),
    ]
    sliders = []
    for d, (name, text, form, n) in enumerate(labels):
        sliders.append(
            f'<label style="margin-right:1.5em;white-space:nowrap">{text} <input type="range" name="{name}" '
            f'data-axis="{d}" min="0" max="{n - 1}" step="1" value="{first[d]}" aria-label="{name}"> '
            f'<span data-value="{d}">{html.escape(form.format(values[d]))}</span></label>'
        )
    key = ",".join(map(str, first))
    box = "border:1px solid #ccc;padding:8px;font-family:sans-serif;max-width:860px"
    return f"""<div id="{uid}" class="gancosmo-explorer" style="{box}">
<div>{"".join(sliders)}</div>
<div data-role="note" style="font-size:90%;color:#a33">{html.escape(notes[key.rsplit(",", 1)[0]])}</div>
<img data-role="view" src="{images[key]}" alt="generated map and power spectrum" style="width:100%;max-width:840px">
<div style="font-size:80%;color:#666">Static explorer: {total} views precomputed over \
{len(om)} Omega_m x {len(rows[0])} sigma_8 x {len(seeds)} seeds; the sigma_8 slider spans the trained range \
at each Omega_m when the grid follows the training cosmologies; no kernel needed.</div>
</div>
<script>
(function() {{
  var root = document.getElementById({json.dumps(uid)});
  var om = {json.dumps(om)};
  var s8 = {json.dumps(rows)};
  var seeds = {json.dumps(seeds)};
  var images = {json.dumps(images)};
  var notes = {json.dumps(notes)};
  var sliders = root.querySelectorAll('input[type="range"]');
  function update() {{
    var i = parseInt(sliders[0].value, 10), k = parseInt(sliders[2].value, 10);
    sliders[1].max = String(s8[i].length - 1);
    var j = Math.min(parseInt(sliders[1].value, 10), s8[i].length - 1);
    var shown = [om[i].toFixed(3), s8[i][j].toFixed(3), String(seeds[k])];
    for (var d = 0; d < 3; d++) root.querySelector('span[data-value="' + d + '"]').textContent = shown[d];
    var key = i + ',' + j + ',' + k;
    root.querySelector('img[data-role="view"]').src = images[key];
    root.querySelector('div[data-role="note"]').textContent = notes[i + ',' + j];
  }}
  for (var d = 0; d < sliders.length; d++) sliders[d].addEventListener('input', update);
  update();
}})();
</script>"""


def _range_with(value: float, bounds) -> tuple[float, float]:
    """``bounds`` widened to hold ``value`` (a slider must be able to show its start)."""
    return (min(bounds[0], value), max(bounds[1], value))


def live_explorer(
    panel: ExplorerPanel,
    omega_m: float,
    sigma8: float,
    seed: int = 0,
    omega_m_range=(0.07, 0.55),
    sigma8_range=(0.40, 1.40),
    vlim=None,
    n_seeds: int = 100,
):
    """ipywidgets sliders (Omega_m, sigma_8, seed) redrawing the explorer view; needs a running kernel.

    The sliders start at ``(omega_m, sigma8, seed)`` (a range is widened to hold its start); the
    seed slider runs over ``n_seeds`` independent latent draws from ``seed``.
    """
    import ipywidgets as w
    from IPython.display import Image

    plt = pyplot()
    lo, hi = _range_with(omega_m, omega_m_range)
    s_om = w.FloatSlider(min=lo, max=hi, step=0.005, description="Omega_m", readout_format=".3f")
    lo, hi = _range_with(sigma8, sigma8_range)
    s_s8 = w.FloatSlider(min=lo, max=hi, step=0.005, description="sigma_8", readout_format=".3f")
    s_seed = w.IntSlider(min=int(seed), max=int(seed) + n_seeds - 1, description="seed")
    s_om.value, s_s8.value, s_seed.value = float(omega_m), float(sigma8), int(seed)  # after the bounds: not clipped
    out = w.Output()

    def draw(*_):
        # The view goes into the widget's state (outputs), not through `with out:` output capture: a batch
        # executor (papermill, jupyter-book) then has no captured messages to route, which hung long runs.
        fig = panel.figure(s_om.value, s_s8.value, s_seed.value, vlim=vlim)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        out.outputs = ()
        out.append_display_data(Image(data=buf.getvalue(), format="png"))

    for s in (s_om, s_s8, s_seed):
        s.observe(draw, names="value")
    draw()
    layout = w.Layout(width="100%")
    return w.VBox([w.HBox([s_om, s_s8, s_seed], layout=layout), out], layout=layout)
