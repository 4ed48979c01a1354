"""Explorers of a conditional generator over (Omega_m, sigma_8) and the latent seed.

* :func:`live_explorer` -- ipywidgets sliders; needs a running kernel (Jupyter). Each move
  generates a map and plots its power spectrum against pyccl's theory curve and the mean
  spectrum of the nearest training cosmology's simulated maps.
* :func:`static_explorer_html` -- the same view over a precomputed grid (Omega_m x sigma_8 x
  seeds), as one self-contained HTML snippet: base64 PNG images, ``<input type="range">``
  sliders and a few lines of inline JavaScript that swap the image. No kernel, no network,
  no JavaScript from a CDN: it works in the static HTML book.
"""

from __future__ import annotations

import base64
import html
import io
import json
import uuid

import numpy as np

from .common import pyplot

__all__ = ["ExplorerPanel", "live_explorer", "render_panel_png", "static_explorer_html"]


class ExplorerPanel:
    """What one explorer view needs: a generator function, the theory and the nearest simulation.

    Parameters
    ----------
    generate : callable
        ``generate(omega_m, sigma8, seed) -> (128, 128)`` convergence map.
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
    """

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

    def figure(self, omega_m: float, sigma8: float, seed: int, vlim=None, dpi: int = 60):
        plt = pyplot()
        m = np.asarray(self.generate(omega_m, sigma8, seed))
        fig, (a, b) = plt.subplots(1, 2, figsize=(8.4, 3.6), dpi=dpi)
        vmin, vmax = vlim if vlim is not None else (np.quantile(m, 0.005), np.quantile(m, 0.995))
        im = a.imshow(
            m, cmap="inferno", vmin=vmin, vmax=vmax, origin="lower", extent=(0, self.side_deg, 0, self.side_deg)
        )
        fig.colorbar(im, ax=a, label=r"$\kappa$")
        inside = bool(self.inside(omega_m, sigma8))
        a.set(
            xlabel="deg",
            ylabel="deg",
            title=rf"GAN, $\Omega_m$={omega_m:.3f} $\sigma_8$={sigma8:.3f} seed {seed}"
            + ("" if inside else "\nEXTRAPOLATION: outside the training cosmologies"),
        )
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
        b.set(xlabel=r"multipole $\ell$", ylabel=r"$\ell(\ell+1)C_\ell/2\pi$", title=self.label)
        b.legend(fontsize=7)
        fig.tight_layout()
        return fig


def render_panel_png(panel: ExplorerPanel, omega_m: float, sigma8: float, seed: int, vlim=None, dpi: int = 60) -> str:
    """Base64 PNG of one explorer view."""
    plt = pyplot()
    fig = panel.figure(omega_m, sigma8, seed, vlim=vlim, dpi=dpi)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def static_explorer_html(
    panel: ExplorerPanel, omega_m_values, sigma8_values, seeds, vlim=None, dpi: int = 60, progress: bool = True
) -> str:
    """One self-contained HTML snippet: sliders over a precomputed grid of explorer views.

    Parameters
    ----------
    omega_m_values, sigma8_values : sequence of float
        Grid values of each slider (at least 1 each).
    seeds : sequence of int
        Latent seeds (third slider).
    vlim : (float, float), optional
        One colour scale for every map (default: each map its own).

    Returns
    -------
    str
        ``<div>`` with three ``<input type="range">`` and an ``<img>``, and an inline
        ``<script>`` holding the images as data URIs; show it with ``IPython.display.HTML``.
    """
    from tqdm.auto import tqdm

    axes = [list(map(float, omega_m_values)), list(map(float, sigma8_values)), [int(s) for s in seeds]]
    for name, vals in zip(("omega_m_values", "sigma8_values", "seeds"), axes):
        if len(vals) < 1:
            raise ValueError(f"{name} is empty; accepted is at least one value.")
    images, notes = {}, {}
    total = len(axes[0]) * len(axes[1]) * len(axes[2])
    with tqdm(total=total, desc="explorer grid", disable=not progress) as bar:
        for i, om in enumerate(axes[0]):
            for j, s8 in enumerate(axes[1]):
                notes[f"{i},{j}"] = (
                    "inside the training cosmologies"
                    if panel.inside(om, s8)
                    else "EXTRAPOLATION: outside the training cosmologies"
                )
                for k, seed in enumerate(axes[2]):
                    images[f"{i},{j},{k}"] = "data:image/png;base64," + render_panel_png(panel, om, s8, seed, vlim, dpi)
                    bar.update(1)
    uid = "p2x-" + uuid.uuid4().hex[:10]
    labels = [
        ("omega_m", "&Omega;<sub>m</sub>", "{:.3f}"),
        ("sigma8", "&sigma;<sub>8</sub>", "{:.3f}"),
        ("seed", "latent seed", "{}"),
    ]
    mid = [len(a) // 2 for a in axes]
    rows = []
    for d, ((name, text, fmt), vals) in enumerate(zip(labels, axes)):
        rows.append(
            f'<label style="margin-right:1.5em">{text} <input type="range" name="{name}" data-axis="{d}" min="0" '
            f'max="{len(vals) - 1}" step="1" value="{mid[d]}" aria-label="{name}"> '
            f'<span data-value="{d}">{html.escape(fmt.format(vals[mid[d]]))}</span></label>'
        )
    first = images[",".join(map(str, mid))]
    box = "border:1px solid #ccc;padding:8px;font-family:sans-serif"
    return f"""<div id="{uid}" class="gancosmo-explorer" style="{box}">
<div>{"".join(rows)}</div>
<div data-role="note" style="font-size:90%;color:#a33">{html.escape(notes[f"{mid[0]},{mid[1]}"])}</div>
<img data-role="view" src="{first}" alt="generated map and power spectrum" style="max-width:100%">
<div style="font-size:80%;color:#666">Static explorer: {total} views precomputed over \
{len(axes[0])} x {len(axes[1])} x {len(axes[2])} (Omega_m x sigma_8 x seed); no kernel needed.</div>
</div>
<script>
(function() {{
  var root = document.getElementById({json.dumps(uid)});
  var axes = {json.dumps(axes)};
  var images = {json.dumps(images)};
  var notes = {json.dumps(notes)};
  var sliders = root.querySelectorAll('input[type="range"]');
  function update() {{
    var idx = [];
    for (var d = 0; d < sliders.length; d++) {{
      idx.push(parseInt(sliders[d].value, 10));
      var v = axes[d][idx[d]];
      root.querySelector('span[data-value="' + d + '"]').textContent = d < 2 ? v.toFixed(3) : String(v);
    }}
    root.querySelector('img[data-role="view"]').src = images[idx.join(',')];
    root.querySelector('div[data-role="note"]').textContent = notes[idx[0] + ',' + idx[1]];
  }}
  for (var d = 0; d < sliders.length; d++) sliders[d].addEventListener('input', update);
  update();
}})();
</script>"""


def live_explorer(
    panel: ExplorerPanel,
    omega_m: float,
    sigma8: float,
    seed: int = 0,
    omega_m_range=(0.07, 0.55),
    sigma8_range=(0.40, 1.40),
    vlim=None,
):
    """ipywidgets sliders (Omega_m, sigma_8, seed) redrawing the explorer view; needs a running kernel."""
    import ipywidgets as w
    from IPython.display import display

    plt = pyplot()
    s_om = w.FloatSlider(
        value=omega_m,
        min=omega_m_range[0],
        max=omega_m_range[1],
        step=0.005,
        description="Omega_m",
        readout_format=".3f",
    )
    s_s8 = w.FloatSlider(
        value=sigma8, min=sigma8_range[0], max=sigma8_range[1], step=0.005, description="sigma_8", readout_format=".3f"
    )
    s_seed = w.IntSlider(value=seed, min=0, max=99, description="seed")
    out = w.Output()

    def draw(*_):
        with out:
            out.clear_output(wait=True)
            fig = panel.figure(s_om.value, s_s8.value, s_seed.value, vlim=vlim, dpi=80)
            display(fig)
            plt.close(fig)

    for s in (s_om, s_s8, s_seed):
        s.observe(draw, names="value")
    draw()
    return w.VBox([w.HBox([s_om, s_s8, s_seed]), out])
