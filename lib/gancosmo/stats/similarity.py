r"""Image-level similarity: MS-SSIM over random pairs (P2), Sorensen-Dice overlap of the top
``n%`` pixels (P5), and nearest neighbours of generated maps in a training set (P1).

* :func:`ms_ssim_random_pairs` -- MS-SSIM (Wang et al. 2003, via torchmetrics) of random pairs
  of distinct images of one set; :func:`s_ssim` -- P2's significance
  :math:`(\langle S_{GAN}\rangle - \langle S_{N}\rangle)/((\sigma_{GAN} + \sigma_N)/2)`.
* :func:`dice_top_percent` -- for images ``a``, ``b`` thresholded at their own top ``n%``,
  :math:`O = 2N_{ab}/(N_a + N_b)` (P5's eq. 9 prints :math:`N_{ab}/(N_a+N_b)`; the factor 2 is
  needed for its statement that random pairs overlap by ``n%`` on average and perfect pairs by 1);
  :func:`dice_random_baseline` -- mean :math:`r(t)` and standard deviation over random pairs of
  one set; :func:`dice_scores` -- normalized coefficient :math:`(\bar O - r)/(1 - r)` (eq. 10)
  and significance :math:`(\bar O - r)/\sigma_r` (eq. 11).
* :func:`nearest_neighbours` -- the ``k`` closest training items of each generated item by
  pixel L2 distance or by L2 distance of their (log) power spectra.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ._utils import as_batch, check_same_batch, to_numpy
from .power import power_spectrum_2d

__all__ = [
    "ms_ssim_random_pairs",
    "s_ssim",
    "dice_top_percent",
    "dice_random_baseline",
    "dice_scores",
    "nearest_neighbours",
]

_BETAS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


#: P5's top fractions of pixels, in percent (5% steps).
PERCENTS = np.arange(5, 100, 5)


def _random_pairs(n: int, n_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if n < 2:
        raise ValueError(f"a set of {n} image(s) has no pair; accepted are at least 2 images.")
    i = rng.integers(0, n, n_pairs)
    j = (i + rng.integers(1, n, n_pairs)) % n  # j != i
    return i, j


def ms_ssim_random_pairs(
    maps: Any,
    n_pairs: int = 200,
    data_range: float | tuple | None = None,
    seed: int = 0,
    kernel_size: int | None = None,
    batch: int = 64,
) -> np.ndarray:
    r"""MS-SSIM of ``n_pairs`` random pairs of distinct maps of one set.

    Parameters
    ----------
    maps : array_like or torch.Tensor
        ``(B, H, W)`` maps, B >= 2.
    n_pairs : int
    data_range : float or (min, max), optional
        Dynamic range used by SSIM; default: max - min over the set. Use the same range for
        the sets you compare.
    seed : int
    kernel_size : int, optional
        Gaussian window; default 11 (sigma 1.5), reduced (9, 7, 5, 3, with sigma
        ``(kernel_size - 1)/7``) so that 5 scales fit the image (torchmetrics needs a side
        larger than ``(kernel_size - 1) * 16``).
    batch : int
        Pairs per call.

    Returns
    -------
    numpy.ndarray
        ``(n_pairs,)`` scores in [0, 1].
    """
    from torchmetrics.functional.image import multiscale_structural_similarity_index_measure as msssim

    x = as_batch(maps, "maps", 3, "maps (B, H, W)", square=False)
    if x.shape[0] < 2:
        raise ValueError(f"a set of {x.shape[0]} image(s) has no pair; accepted are at least 2 images.")
    side = min(x.shape[-2:])
    if kernel_size is None:
        kernel_size = next((k for k in (11, 9, 7, 5, 3) if side > (k - 1) * 2 ** (len(_BETAS) - 1)), None)
        if kernel_size is None:
            raise ValueError(
                f"maps of side {side} are too small for 5-scale MS-SSIM; accepted are sides of at least 33 pixels."
            )
    # torchmetrics sizes a Gaussian window from sigma (2 * int(3.5 sigma + 0.5) + 1 pixels)
    sigma = 1.5 if kernel_size == 11 else (kernel_size - 1) / 7.0
    if data_range is None:
        data_range = float(x.max() - x.min())
    i, j = _random_pairs(x.shape[0], int(n_pairs), np.random.default_rng(seed))
    out = []
    for s in range(0, len(i), batch):
        a = x[torch.as_tensor(i[s : s + batch], device=x.device)].unsqueeze(1)
        b = x[torch.as_tensor(j[s : s + batch], device=x.device)].unsqueeze(1)
        out.append(
            to_numpy(msssim(a, b, data_range=data_range, kernel_size=kernel_size, sigma=sigma, reduction="none"))
        )
    return np.concatenate(out).astype(np.float64)


def s_ssim(ssim_fake: Any, ssim_real: Any) -> float:
    r"""P2's :math:`s_{SSIM} = (\langle S_{GAN}\rangle - \langle S_{N}\rangle) / ((\sigma_{GAN} + \sigma_N)/2)`."""
    f, r = np.asarray(ssim_fake, float).ravel(), np.asarray(ssim_real, float).ravel()
    if f.size < 2 or r.size < 2:
        raise ValueError("s_ssim needs at least 2 scores per set; accepted are arrays from ms_ssim_random_pairs.")
    return float((f.mean() - r.mean()) / ((f.std() + r.std()) / 2))


def _top_masks(x: torch.Tensor, percents: np.ndarray) -> torch.Tensor:
    """``(P, B, npix)`` masks of the top ``p%`` pixels of each image (own threshold)."""
    flat = x.reshape(x.shape[0], -1)
    npix = flat.shape[1]
    order = torch.argsort(flat, dim=1, descending=True)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(npix, device=x.device).expand_as(order))
    k = torch.as_tensor(np.round(percents / 100.0 * npix).astype(np.int64), device=x.device)
    return rank.unsqueeze(0) < k[:, None, None]


def dice_top_percent(a: Any, b: Any, percents: Any = PERCENTS) -> np.ndarray:
    r"""Sorensen-Dice overlap :math:`2N_{ab}/(N_a+N_b)` of the top ``n%`` pixels of paired images.

    Parameters
    ----------
    a, b : array_like or torch.Tensor
        ``(B, H, W)`` (or cubes) paired item by item (e.g. simulation and its autoencoder output).
    percents : array_like
        Top percentages in (0, 100].

    Returns
    -------
    numpy.ndarray
        ``(B, n_percents)`` overlaps in [0, 1].
    """
    nd = a.ndim if isinstance(a, torch.Tensor) else np.ndim(a)
    x = as_batch(a, "a", nd, "maps (B, H, W) or cubes (B, D, H, W)", square=False)
    y = as_batch(b, "b", nd, "maps (B, H, W) or cubes (B, D, H, W)", square=False, device=x.device)
    check_same_batch(x, y, "a", "b")
    p = np.atleast_1d(np.asarray(percents, dtype=np.float64))
    if p.ndim != 1 or np.any(p <= 0) or np.any(p > 100):
        raise ValueError(f"percents are {p}; accepted are percentages in (0, 100].")
    ma, mb = _top_masks(x, p), _top_masks(y, p)
    nab = (ma & mb).sum(-1).to(torch.float64)
    na = ma.sum(-1).to(torch.float64)
    nb = mb.sum(-1).to(torch.float64)
    o = 2 * nab / (na + nb).clamp(min=1)
    return to_numpy(o.T)


def dice_random_baseline(
    maps: Any, percents: Any = PERCENTS, n_pairs: int = 200, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``r(t)`` and standard deviation of the Dice overlap over random pairs of one set."""
    nd = maps.ndim if isinstance(maps, torch.Tensor) else np.ndim(maps)
    x = as_batch(maps, "maps", nd, "maps (B, H, W) or cubes (B, D, H, W)", square=False)
    i, j = _random_pairs(x.shape[0], int(n_pairs), np.random.default_rng(seed))
    o = dice_top_percent(x[torch.as_tensor(i)], x[torch.as_tensor(j)], percents)
    return o.mean(0), o.std(0)


def dice_scores(overlap: Any, random_mean: Any, random_std: Any) -> tuple[np.ndarray, np.ndarray]:
    r"""P5's normalized coefficient :math:`(\bar O - r)/(1 - r)` and significance :math:`(\bar O - r)/\sigma_r`.

    ``overlap`` is ``(B, n_percents)`` (averaged over pairs here) or already ``(n_percents,)``.
    """
    o = np.asarray(overlap, float)
    if o.ndim == 2:
        o = o.mean(0)
    r, s = np.asarray(random_mean, float), np.asarray(random_std, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (o - r) / (1 - r), (o - r) / s


def nearest_neighbours(
    generated: Any,
    training: Any,
    k: int = 1,
    metric: str = "pixel",
    side_deg: float | None = None,
    ell_edges: Any = None,
    log_power: bool = True,
    chunk: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    r"""The ``k`` nearest training maps of each generated map (P1's memorization check).

    Parameters
    ----------
    generated, training : array_like or torch.Tensor
        ``(G, H, W)`` and ``(T, H, W)`` maps of the same shape.
    k : int
    metric : {"pixel", "power"}
        Pixel L2 distance, or L2 distance between power spectra (``log10`` when ``log_power``;
        needs ``side_deg`` and ``ell_edges``).
    chunk : int
        Generated maps per distance block.

    Returns
    -------
    index : numpy.ndarray
        ``(G, k)`` indices into ``training``, nearest first.
    distance : numpy.ndarray
        ``(G, k)`` L2 distances.
    """
    g = as_batch(generated, "generated", 3, "maps (B, H, W)", square=False)
    t = as_batch(training, "training", 3, "maps (B, H, W)", square=False, device=g.device)
    if g.shape[1:] != t.shape[1:]:
        raise ValueError(
            f"generated maps are {tuple(g.shape[1:])} but training maps {tuple(t.shape[1:])}; accepted are maps of "
            f"one shape."
        )
    if not (1 <= int(k) <= t.shape[0]):
        raise ValueError(f"k is {k}; accepted is 1 <= k <= {t.shape[0]} (the training set size).")
    if metric == "pixel":
        fg, ft = g.reshape(g.shape[0], -1), t.reshape(t.shape[0], -1)
    elif metric == "power":
        if side_deg is None or ell_edges is None:
            raise ValueError(
                "metric='power' needs side_deg and ell_edges; accepted e.g. side_deg=3.5, ell_edges=np.linspace(100, "
                "8000, 50)."
            )
        pg = power_spectrum_2d(g, side_deg, ell_edges)[1]
        pt = power_spectrum_2d(t, side_deg, ell_edges)[1]
        if log_power:
            tiny = 1e-30
            pg, pt = np.log10(np.maximum(pg, tiny)), np.log10(np.maximum(pt, tiny))
        fg, ft = torch.as_tensor(pg, device=g.device), torch.as_tensor(pt, device=g.device)
    else:
        raise ValueError(f"metric is {metric!r}; accepted are 'pixel' and 'power'.")
    fg, ft = fg.to(torch.float64), ft.to(torch.float64)
    idx, dist = [], []
    for s in range(0, fg.shape[0], chunk):
        d = torch.cdist(fg[s : s + chunk], ft)
        v, i = torch.topk(d, int(k), dim=1, largest=False)
        idx.append(to_numpy(i))
        dist.append(to_numpy(v))
    return np.concatenate(idx), np.concatenate(dist)
