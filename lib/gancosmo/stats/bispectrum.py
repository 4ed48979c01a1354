r"""Angular bispectrum of maps (lenstools 1.2 conventions).

For every cell :math:`\mathbf{n}_1` of the real FFT half plane with multipole
:math:`\ell_1 = 2\pi|\mathbf{n}_1|/\mathrm{side}` below the last edge, a second leg is built

* ``"folded"``: :math:`\mathbf{n}_2 = -\lfloor r\,\mathbf{n}_1 \rceil_0` (truncation toward zero,
  ``r`` = ``ratio``), so the triangle is folded with sides ``1 : r : 1 - r``;
* ``"equilateral"``: :math:`\mathbf{n}_2` = :math:`\mathbf{n}_1` rotated by 120 degrees (truncated);

the third leg closes the triangle, :math:`\mathbf{n}_3 = -\mathbf{n}_1 - \mathbf{n}_2`, and
:math:`B(\ell_1) = \langle \mathrm{Re}(F_1 F_2 F_3) \rangle \, \mathrm{side_{rad}}^4 / N^6`
averaged over the cells of each bin (``edges[b] < ell_1 <= edges[b+1]``), 0 in empty bins.
Legs outside the FFT grid are skipped, as in lenstools.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import torch

from . import _utils as _u
from ._utils import as_batch, check_edges, check_positive, to_numpy
from .power import binned_sum

__all__ = ["bispectrum_2d"]

_S120 = 0.8660254037844386
_C120 = -0.5
_T120 = -1.7320508075688772


@functools.lru_cache(maxsize=32)
def _triangles(n: int, side_deg: float, edges: tuple, configuration: str, ratio: float, device: str):
    size_y = n // 2 + 1
    lpix = 360.0 / side_deg
    e = np.asarray(edges)
    nb = e.size - 1
    i = np.arange(n)
    kx1 = np.where(i < (n >> 1), i, i - n)[:, None] * np.ones((1, size_y), dtype=np.int64)
    ky1 = np.arange(size_y)[None, :] * np.ones((n, 1), dtype=np.int64)
    kx1, ky1 = kx1.ravel(), ky1.ravel()
    n1 = np.arange(n * size_y)
    ell = np.sqrt((kx1 * kx1 + ky1 * ky1).astype(np.float64)) * lpix
    ok = ell < e[-1]
    if configuration == "folded":
        kx2 = -np.trunc(ratio * kx1).astype(np.int64)
        ky2 = -np.trunc(ratio * ky1).astype(np.int64)
    else:
        ok &= ~((kx1 < 0) & (ky1 < kx1 * _T120))
        kx2 = np.trunc(_C120 * kx1 - _S120 * ky1).astype(np.int64)
        ky2 = np.trunc(_S120 * kx1 + _C120 * ky1).astype(np.int64)
    kx3 = -kx1 - kx2
    ky3 = -ky1 - ky2

    def locate(kx, ky):
        conj = ky < 0
        kx = np.where(conj, -kx, kx)
        ky = np.where(conj, -ky, ky)
        inside = ~((ky >= size_y) | (kx <= -size_y) | (kx >= size_y))
        kx = np.where(kx < 0, n + kx, kx)
        return size_y * kx + ky, conj, inside

    n2, c2, in2 = locate(kx2, ky2)
    n3, c3, in3 = locate(kx3, ky3)
    ok &= in2 & in3
    b = np.searchsorted(e, ell, side="left") - 1  # edges[b] < ell <= edges[b+1]
    ok &= (b >= 0) & (b < nb)
    n1, n2, n3, c2, c3, b = n1[ok], n2[ok], n3[ok], c2[ok], c3[ok], b[ok]
    hits = np.bincount(b, minlength=nb)[:nb]
    s2 = np.where(c2, -1.0, 1.0)
    s3 = np.where(c3, -1.0, 1.0)
    t = lambda a, dt=None: torch.from_numpy(np.ascontiguousarray(a)).to(device)  # noqa: E731
    return t(n1), t(n2), t(n3), t(s2), t(s3), t(b), hits, nb


def bispectrum_2d(
    maps: Any,
    side_deg: float,
    ell_edges: Any,
    configuration: str = "folded",
    ratio: float = 0.5,
    device: str | torch.device | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Equilateral or folded angular bispectrum, identical to lenstools 1.2 ``bispectrum``.

    Parameters
    ----------
    maps : array_like or torch.Tensor
        ``(B, N, N)`` maps.
    side_deg : float
        Side of each map in degrees.
    ell_edges : array_like
        Strictly increasing bin edges for :math:`\ell_1` (the base of the triangle).
    configuration : {"folded", "equilateral"}
    ratio : float
        Folding ratio ``0 < r < 1`` (``"folded"`` only).
    device : str or torch.device, optional

    Returns
    -------
    ell : numpy.ndarray
        ``(nb,)`` bin mid-points.
    bispec : numpy.ndarray
        ``(B, nb)`` bispectrum in sr^2 (map units cubed), 0 in empty bins.
    """
    if configuration not in ("folded", "equilateral"):
        raise ValueError(f"configuration is {configuration!r}; accepted are 'folded' and 'equilateral'.")
    if configuration == "folded":
        try:
            r = float(ratio)
        except (TypeError, ValueError):
            r = float("nan")
        if not (0.0 < r < 1.0):
            raise ValueError(f"ratio is {ratio!r}; accepted is a folding ratio strictly between 0 and 1.")
    else:
        r = 0.0
    x = as_batch(maps, "maps", 3, "maps (B, H, W)", device=device)
    side = check_positive(side_deg, "side_deg", "degrees")
    e = check_edges(ell_edges, "ell_edges")
    n = x.shape[-1]
    n1, n2, n3, s2, s3, b, hits, nb = _triangles(n, side, tuple(e.tolist()), configuration, r, str(x.device))
    chunk = _u.chunk_size(n1.numel(), 0.5)  # bounds the gathered legs
    parts = []
    for i in range(0, x.shape[0], chunk):
        f = torch.fft.rfft2(x[i : i + chunk]).reshape(min(chunk, x.shape[0] - i), -1)
        fr, fi = f.real, f.imag
        r1, i1 = fr[:, n1], fi[:, n1]
        r2, i2 = fr[:, n2], fi[:, n2] * s2.to(fr.dtype)
        r3, i3 = fr[:, n3], fi[:, n3] * s3.to(fr.dtype)
        val = r1 * r2 * r3 - r1 * i2 * i3 - i1 * r2 * i3 - i1 * i2 * r3
        parts.append(to_numpy(binned_sum(val, b, nb)).astype(np.float64))
    sums = np.concatenate(parts)
    normalization = (side * math.pi / 180.0) ** 4 / float(n) ** 6
    out = np.zeros_like(sums)
    ok = hits > 0
    out[:, ok] = normalization * (sums[:, ok] / hits[ok])
    return 0.5 * (e[:-1] + e[1:]), out
