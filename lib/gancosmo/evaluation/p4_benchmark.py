r"""P4 (Perraudin et al. 2019): the benchmark scores of Table 1 and a patch-seam statistic.

P4 scores a set of generated particle-count cubes against the real ones with three
statistics per cube, exactly as its authors' code (``cosmotools/metric/score.py``) computes
them:

* :func:`power_spectrum_p4`: the power spectrum of :math:`\delta = \rho/\bar\rho - 1` in 49
  log-spaced bins (``logspace`` of 50 edges from the fundamental to the corner of the Fourier
  cube), box length ``350 * n / 256`` (the authors' argument for their 500 Mpc/h box); empty
  bins are dropped;
* :func:`mass_histogram_p4`: voxel counts in 20 bins of :math:`\log_{10}(x + 1)` over
  :math:`[\log_{10} 2, \log_{10}(250884 / 3)]`, values outside put in the outer bins;
* :func:`peak_histogram_p4`: the values of the local maxima (5-wide windows, minimum-to-maximum
  contrast above 0) counted in 20 bins of :math:`\ln(p + e)` over [1.5, 13], outer bins open.

:func:`frechet_d2` is the score's distance: each statistic is divided by the maximum over bins
of the mean real statistic, then :math:`s_{\log} = \log_{10}(y + 10^{-5})`; Gaussians are fitted
to the real and the other log statistics (mean, covariance with ``n - 1``) and
:math:`d^2 = \|m_r - m_f\|^2 + \mathrm{Tr}(C_r + C_f - 2 (C_r C_f)^{1/2})` (Dowson and Landau
1982; P4's eq. 1 prints ``2 C^r C^f``, the authors' code takes the matrix square root).
:func:`s_star_from_d2` gives P4's score :math:`S^* = 1/d^2`.

:func:`table1` computes Table 1 two ways:

* the authors' way: the generated set against all real cubes (as many generated as real), and
  the reference between the first and the second half of the real cubes;
* the book's way (``PROTOCOL.md``): equal sample sizes on both sides, half the real cubes each:
  the generated set (its first half-size cubes) against real half A, and the band of
  :math:`d^2` over random half/half splits (A', B') of the real cubes (:func:`benchmark_splits`),
  ready for :func:`gancosmo.evaluation.protocol.rows_from_scores` with :func:`table1_row_specs`
  (one-sided bands: :math:`d^2 \ge 0`, only large values mean a difference).

:func:`seam_benchmark` exposes the seams of patch-by-patch generation: the power at the
wavevectors of the patch grid, :math:`\mathbf k = 2\pi (a, b, c) / L_\mathrm{patch}` (integers; the
harmonic ``j`` holds those with :math:`\max(|a|, |b|, |c|) = j`), where anything repeated in
every patch puts its power, over the power of the Fourier cells next to them, of the generated
cubes relative to the real ones, with its real-vs-real band.

Sizes: P4's cubes are 256^3 voxels of 500/256 Mpc/h; the book's profiles use fewer voxels of
the same size. What scales with the cube side ``n``: the box length (``350 n / 256`` by
default), hence the fundamental :math:`2\pi/L` and the number of non-empty power-spectrum bins;
the mass-histogram counts (``n^3`` voxels per cube) and the number of peaks (about
proportional to ``n^3``). What does not: the histogram ranges, which are P4's absolute particle
counts (64 particles per voxel on average), and the 5-wide peak window. The authors warn that
scores of different cube sizes are not comparable; so are scores at different sample sizes
(``d^2`` of two sets of one distribution shrinks as ``1/N``), which is why the book compares
equal sizes and reads the real-vs-real band at the same size.

Inputs are particle counts ``(B, n, n, n)`` (non-negative; generated cubes after
:meth:`gancosmo.data.intensity.P4ForwardMap.inverse`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.ndimage

from ..scorecard import Row
from ..stats.compare import frechet_distance
from .protocol import N_SPLITS, RealSplits, RowSpec, Scores, real_vs_real_splits, rows_from_scores, score

__all__ = [
    "P4_BOX_LENGTH",
    "P4_REFERENCE_SIZE",
    "PSD_EDGES",
    "MASS_HIST_BINS",
    "MASS_HIST_RANGE",
    "PEAK_HIST_BINS",
    "PEAK_HIST_RANGE",
    "PEAK_WINDOW",
    "PEAK_THRESHOLD",
    "LOG_FLOOR",
    "STATISTICS",
    "PAPER_TABLE1",
    "PAPER_TABLE2",
    "p4_box_length",
    "psd_bin_edges",
    "power_spectrum_p4",
    "mass_histogram_edges",
    "mass_histogram_p4",
    "peak_mask_p4",
    "peak_values_p4",
    "peak_histogram_edges",
    "peak_histogram_p4",
    "p4_statistics",
    "normalised_log_statistic",
    "frechet_d2",
    "s_star_from_d2",
    "p4_score",
    "benchmark_splits",
    "table1_compare",
    "table1_row_specs",
    "table2_row_specs",
    "Table1",
    "table1_from_statistics",
    "table1",
    "seam_harmonic_indices",
    "seam_wavenumbers",
    "seam_contrast",
    "seam_compare",
    "seam_row_specs",
    "SeamBenchmark",
    "seam_benchmark",
]

#: The authors' box-length argument for a 256^3 cube (their 500 Mpc/h box; only the printed
#: k and P(k) depend on it, not d^2 or S*).
P4_BOX_LENGTH = 350.0
#: Cube side (voxels) that :data:`P4_BOX_LENGTH` belongs to.
P4_REFERENCE_SIZE = 256
#: Edges of the log-spaced power-spectrum bins (the authors' ``bin_k = 50``: 49 bins).
PSD_EDGES = 50
MASS_HIST_BINS = 20
#: Range of log10(x + 1), x in particles per voxel: 250884 is the largest count of P4's cubes.
MASS_HIST_RANGE = (math.log10(2.0), math.log10(250884 / 3))
PEAK_HIST_BINS = 20
#: Range of ln(p + e), p the peak's particle count.
PEAK_HIST_RANGE = (1.5, 13.0)
#: Side of the peak window (voxels): a peak is the maximum of the 124 voxels around it.
PEAK_WINDOW = 5
#: A peak's window must have maximum - minimum above this.
PEAK_THRESHOLD = 0.0
#: Added to the normalised statistic before log10.
LOG_FLOOR = 1e-5
#: The statistics of Table 1, in its column order.
STATISTICS = ("psd", "mass_hist", "peak_hist")
STATISTIC_WORDS = {"psd": "power spectrum", "mass_hist": "mass histogram", "peak_hist": "peak histogram"}
#: P4's Table 1 (30 generated 256^3 cubes vs 30 real; reference: 15 real vs 15 real).
PAPER_TABLE1 = {
    "psd": dict(d2=0.36, s_star=2.72, reference_s_star=8.16),
    "mass_hist": dict(d2=0.17, s_star=5.72, reference_s_star=1433.0),
    "peak_hist": dict(d2=1.58, s_star=0.63, reference_s_star=8.17),
}
#: P4's Table 2: S* of its 2D baselines (a convolutional WGAN of images of each side, pixels).
PAPER_TABLE2 = {
    32: dict(psd=9.24, mass_hist=7.44, peak_hist=3.25),
    64: dict(psd=5.08, mass_hist=5.56, peak_hist=1.09),
    128: dict(psd=5.27, mass_hist=4.37, peak_hist=0.89),
    256: dict(psd=3.36, mass_hist=5.66, peak_hist=1.22),
}
#: Peak-window edge handling of scipy.ndimage accepted by the peak statistics.
PEAK_BOUNDARIES = ("reflect", "wrap")
#: Relative size (to Tr C_r + Tr C_f) under which a computed d^2 is rounding error: reported as 0.
#: With fewer samples than bins the covariances are singular and the square root of their
#: product's zero eigenvalues turns rounding of 1e-16 into about 1e-8 of the traces.
D2_ROUNDING = 1e-6


# ====================================================================== inputs
def _cubes(cubes: Any, name: str) -> np.ndarray:
    """``cubes`` as a numpy array ``(B, n, n, n)``, or images ``(B, n, n)`` (Table 2), not copied.

    Torch tensors are moved to numpy.
    """
    if hasattr(cubes, "detach"):
        cubes = cubes.detach().cpu().numpy()
    x = np.asarray(cubes)
    if x.ndim not in (3, 4) or len(set(x.shape[1:])) != 1 or x.shape[0] < 1 or x.shape[1] < 3:
        raise ValueError(
            f"{name} has shape {x.shape}; accepted are particle-count cubes (B, n, n, n) or images (B, n, n) with "
            "B >= 1 and n >= 3."
        )
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise ValueError(f"{name} has dtype {x.dtype}; accepted are real numbers (particle counts).")
    return x


def _one_cube(cube: np.ndarray, name: str, index: int) -> np.ndarray:
    """Cube ``index`` as float64, refused unless finite and non-negative."""
    c = np.asarray(cube, dtype=np.float64)
    if not np.isfinite(c).all():
        raise ValueError(f"{name}[{index}] holds NaN or infinite values; accepted are finite particle counts.")
    if (c < 0).any():
        raise ValueError(
            f"{name}[{index}] holds negative values (min {c.min():g}); accepted are particle counts >= 0 "
            "(invert the network's transform first)."
        )
    return c


def _statistic(x: Any, name: str) -> np.ndarray:
    """A per-sample statistic ``(n_samples, n_bins)`` as float64, at least 2 samples, finite, >= 0."""
    a = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] < 2 or a.shape[1] < 1:
        raise ValueError(
            f"{name} has shape {a.shape}; accepted is (n_samples, n_bins) with at least 2 samples and 1 bin."
        )
    if not np.isfinite(a).all():
        raise ValueError(f"{name} holds NaN or infinite values; accepted are finite statistics (empty bins dropped).")
    if (a < 0).any():
        raise ValueError(f"{name} holds negative values; accepted are power spectra and histograms (>= 0).")
    return a


# ====================================================================== power spectrum
def p4_box_length(n: int, reference_box: float = P4_BOX_LENGTH, reference_size: int = P4_REFERENCE_SIZE) -> float:
    """The authors' box length for a cube of side ``n``: ``reference_box * n / reference_size``.

    Parameters
    ----------
    n : int
        Cube side in voxels.
    reference_box : float
        Box length of a cube of ``reference_size`` voxels (the authors: 350 for 256).
    reference_size : int
        Cube side that ``reference_box`` belongs to.

    Returns
    -------
    float
        Box length in the units of ``reference_box`` (voxel size kept).
    """
    return float(reference_box) * int(n) / int(reference_size)


def _wavenumbers_rfft(n: int, box_length: float, dim: int = 3) -> np.ndarray:
    """``|k|`` of the cells of a ``dim``-D real FFT ``(n, ..., n // 2 + 1)``, radians per unit of ``box_length``."""
    full = 2.0 * np.pi * np.fft.fftfreq(n, d=box_length / n)
    half = 2.0 * np.pi * np.fft.rfftfreq(n, d=box_length / n)
    axes = [full] * (dim - 1) + [half]
    return np.sqrt(sum(k**2 for k in np.meshgrid(*axes, indexing="ij")))


def psd_bin_edges(n: int, box_length: float | None = None, n_edges: int = PSD_EDGES, dim: int = 3) -> np.ndarray:
    """The authors' log-spaced power-spectrum bin edges for a cube (``dim`` 3) or an image (``dim`` 2) of side ``n``.

    ``n_edges`` edges (49 bins by default) from the fundamental :math:`2\\pi/L` to the largest
    :math:`|k|` of the FFT grid (:math:`\\sqrt{\\mathrm{dim}}` times the Nyquist wavenumber), their
    log10 floored and ceiled at the 15th decimal so that both extremes lie inside.

    Parameters
    ----------
    n : int
        Cube side in voxels (at least 2).
    box_length : float, optional
        Box side; default :func:`p4_box_length` ``(n)``. Edges are in radians per its unit.
    n_edges : int
        Number of edges (at least 2).

    Returns
    -------
    numpy.ndarray
        ``(n_edges,)`` increasing edges.
    """
    box = p4_box_length(n) if box_length is None else float(box_length)
    if not (box > 0 and math.isfinite(box)):
        raise ValueError(f"box_length is {box_length!r}; accepted is a finite length > 0.")
    if isinstance(n_edges, bool) or int(n_edges) != n_edges or n_edges < 2:
        raise ValueError(f"n_edges is {n_edges!r}; accepted is an integer >= 2.")
    if dim not in (2, 3):
        raise ValueError(f"dim is {dim!r}; accepted are 2 (images) and 3 (cubes).")
    k = _wavenumbers_rfft(int(n), box, dim)
    k_min = np.min(k[k > 0])
    k_max = np.max(k)
    # The authors' rounding of the exponents keeps k_min and k_max inside the extreme bins.
    low = np.floor(np.log10(k_min) * 1e15) / 1e15
    high = np.ceil(np.log10(k_max) * 1e15) / 1e15
    return np.logspace(low, high, int(n_edges))


def _psd_cell_bins(n: int, box_length: float, n_edges: int, dim: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bin of every rfft cell (-1 outside every bin), cells per bin, and the edges.

    A cell is in bin ``i`` when ``edges[i] <= |k| < edges[i + 1]`` (the last bin is open above,
    as the authors'); the k = 0 cell lies below the first edge.
    """
    edges = psd_bin_edges(n, box_length, n_edges, dim)
    k = _wavenumbers_rfft(n, box_length, dim).ravel()
    index = np.searchsorted(edges, k, side="right") - 1
    index[(index < 0) | (index >= len(edges) - 1)] = -1
    cells = np.bincount(index[index >= 0], minlength=len(edges) - 1)
    return index, cells, edges


def power_spectrum_p4(
    cubes: Any, box_length: float | None = None, n_edges: int = PSD_EDGES, drop_empty: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    r"""P4's power spectrum of each cube's overdensity :math:`\delta = \rho/\bar\rho - 1`.

    :math:`P = \langle |\tilde\delta(\mathbf k)|^2 \rangle L^3 / n^6` averaged over the cells of the
    real FFT (half the Fourier cube, ``k_z >= 0``) whose :math:`|\mathbf k|` falls in each bin of
    :func:`psd_bin_edges`; a cube of mean 0 has :math:`\delta = 0`. The bins' positions are the
    midpoints of their edges. Images ``(B, n, n)`` (Table 2) get the 2D spectrum,
    :math:`\langle |\tilde\delta|^2 \rangle L^2 / n^4`.

    Parameters
    ----------
    cubes : array_like or torch.Tensor
        ``(B, n, n, n)`` particle counts per voxel, or ``(B, n, n)`` per pixel (>= 0).
    box_length : float, optional
        Box side; default :func:`p4_box_length` ``(n)`` = ``350 n / 256`` (the authors'). It
        scales k by ``1/L`` and P by ``L^3``, not which cells share a bin, so d^2 and S* do not
        depend on it (up to rounding at the bin edges).
    n_edges : int
        Bin edges (default 50: 49 bins).
    drop_empty : bool
        Drop the bins that hold no FFT cell (default, as the authors); else they are NaN.

    Returns
    -------
    k : numpy.ndarray
        ``(n_bins,)`` bin midpoints, radians per unit of ``box_length``.
    psd : numpy.ndarray
        ``(B, n_bins)`` power spectra, units of ``box_length`` cubed (squared for images).
    """
    x = _cubes(cubes, "cubes")
    n, dim = x.shape[1], x.ndim - 1
    box = p4_box_length(n) if box_length is None else float(box_length)
    index, cells, edges = _psd_cell_bins(n, box, n_edges, dim)
    inside = index >= 0
    n_bins = len(edges) - 1
    psd = np.empty((x.shape[0], n_bins))
    for b in range(x.shape[0]):
        cube = _one_cube(x[b], "cubes", b)
        mean = cube.mean()
        delta = cube / mean - 1.0 if mean != 0 else np.zeros_like(cube)
        power = np.abs(np.fft.rfftn(delta)).ravel() ** 2
        sums = np.bincount(index[inside], weights=power[inside], minlength=n_bins)
        with np.errstate(invalid="ignore", divide="ignore"):
            psd[b] = sums / cells * box**dim / float(n) ** (2 * dim)
    k = 0.5 * (edges[1:] + edges[:-1])
    filled = cells > 0
    if drop_empty:
        return k[filled], psd[:, filled]
    psd[:, ~filled] = np.nan
    return k, psd


# ====================================================================== histograms
def _histogram_edges(bins: int, lim: tuple[float, float], name: str) -> np.ndarray:
    if isinstance(bins, bool) or int(bins) != bins or bins < 1:
        raise ValueError(f"{name} bins is {bins!r}; accepted is an integer >= 1.")
    lo, hi = (float(v) for v in lim)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} range is {lim!r}; accepted is (low, high) with low < high, both finite.")
    return np.linspace(lo, hi, int(bins) + 1)


def _unbounded_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of ``values`` in the bins of ``edges``, values below (above) the range in the first (last) bin.

    Bin ``i`` holds ``edges[i] <= v < edges[i + 1]``; the last bin also holds ``v >= edges[-1]``
    (numpy's histogram with the authors' ``unbounded_histogram``).
    """
    n_bins = len(edges) - 1
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, n_bins - 1)
    return np.bincount(index, minlength=n_bins)


def mass_histogram_edges(bins: int = MASS_HIST_BINS, lim: tuple[float, float] = MASS_HIST_RANGE) -> np.ndarray:
    """``(bins + 1,)`` edges of P4's mass histogram, in :math:`\\log_{10}(x + 1)` (x particles per voxel)."""
    return _histogram_edges(bins, lim, "mass histogram")


def mass_histogram_p4(
    cubes: Any, bins: int = MASS_HIST_BINS, lim: tuple[float, float] = MASS_HIST_RANGE
) -> tuple[np.ndarray, np.ndarray]:
    r"""P4's mass histogram: voxels of each cube counted in bins of :math:`\log_{10}(x + 1)`.

    Empty and one-particle voxels (:math:`\log_{10}(x+1) \le \log_{10} 2`) fall in the first
    bin; voxels above the range in the last. Counts are not normalised: they sum to ``n^3``.

    Parameters
    ----------
    cubes : array_like or torch.Tensor
        ``(B, n, n, n)`` particle counts per voxel (>= 0).
    bins : int
        Number of bins (P4: 20).
    lim : (float, float)
        Range in :math:`\log_{10}(x + 1)` (P4: :data:`MASS_HIST_RANGE`, absolute particle counts:
        rescale it if the mean count per voxel differs from P4's 64).

    Returns
    -------
    edges : numpy.ndarray
        ``(bins + 1,)`` edges in :math:`\log_{10}(x + 1)`.
    counts : numpy.ndarray
        ``(B, bins)`` voxel counts (float64).
    """
    x = _cubes(cubes, "cubes")
    edges = mass_histogram_edges(bins, lim)
    counts = np.empty((x.shape[0], len(edges) - 1))
    for b in range(x.shape[0]):
        counts[b] = _unbounded_counts(np.log10(_one_cube(x[b], "cubes", b).ravel() + 1.0), edges)
    return edges, counts


def _check_peak_options(window: int, boundary: str) -> None:
    if isinstance(window, bool) or int(window) != window or window < 3 or window % 2 == 0:
        raise ValueError(f"window is {window!r}; accepted is an odd integer >= 3 (P4: 5).")
    if boundary not in PEAK_BOUNDARIES:
        raise ValueError(f"boundary is {boundary!r}; accepted are {', '.join(map(repr, PEAK_BOUNDARIES))}.")


def peak_mask_p4(
    cube: Any, window: int = PEAK_WINDOW, threshold: float = PEAK_THRESHOLD, boundary: str = "reflect"
) -> np.ndarray:
    """The authors' peaks of one cube: voxels equal to the maximum of their window, in a window that is not flat.

    A voxel is a peak when it equals the maximum of the ``window^3`` voxels centred on it
    (ties count: every voxel of a plateau that is its window's maximum is a peak) and that
    window's maximum minus minimum exceeds ``threshold`` (so flat regions hold no peak).

    Parameters
    ----------
    cube : array_like
        ``(n, n, n)`` particle counts (>= 0).
    window : int
        Odd window side in voxels (P4: 5, i.e. 124 neighbours).
    threshold : float
        Minimum window contrast (P4: 0).
    boundary : str
        ``"reflect"`` (the authors', scipy's default: near a face the window is cut at the
        face, so voxels there compare only with voxels inside the cube) or ``"wrap"``
        (periodic cubes).

    Returns
    -------
    numpy.ndarray
        ``(n, n, n)`` boolean mask of the peaks.
    """
    _check_peak_options(window, boundary)
    c = np.asarray(cube, dtype=np.float64)
    if c.ndim not in (2, 3):
        raise ValueError(f"cube has shape {c.shape}; accepted is one cube (n, n, n) or one image (n, n).")
    local_max = scipy.ndimage.maximum_filter(c, size=int(window), mode=boundary)
    local_min = scipy.ndimage.minimum_filter(c, size=int(window), mode=boundary)
    return (c == local_max) & (local_max - local_min > float(threshold))


def peak_values_p4(
    cube: Any, window: int = PEAK_WINDOW, threshold: float = PEAK_THRESHOLD, boundary: str = "reflect"
) -> np.ndarray:
    """Particle counts of the peaks of one cube (:func:`peak_mask_p4`), in C order of their voxels."""
    c = np.asarray(cube, dtype=np.float64)
    return c[peak_mask_p4(c, window, threshold, boundary)]


def peak_histogram_edges(bins: int = PEAK_HIST_BINS, lim: tuple[float, float] = PEAK_HIST_RANGE) -> np.ndarray:
    """``(bins + 1,)`` edges of P4's peak histogram, in :math:`\\ln(p + e)` (p a peak's particle count)."""
    return _histogram_edges(bins, lim, "peak histogram")


def peak_histogram_p4(
    cubes: Any,
    bins: int = PEAK_HIST_BINS,
    lim: tuple[float, float] = PEAK_HIST_RANGE,
    window: int = PEAK_WINDOW,
    threshold: float = PEAK_THRESHOLD,
    boundary: str = "reflect",
) -> tuple[np.ndarray, np.ndarray]:
    r"""P4's peak histogram: the peaks of each cube counted in bins of :math:`\ln(p + e)`.

    Parameters
    ----------
    cubes : array_like or torch.Tensor
        ``(B, n, n, n)`` particle counts per voxel (>= 0).
    bins : int
        Number of bins (P4: 20).
    lim : (float, float)
        Range in :math:`\ln(p + e)` (P4: [1.5, 13], i.e. p from 1.8 to 4.4e5 particles); peaks
        below it count in the first bin, above it in the last.
    window, threshold, boundary
        See :func:`peak_mask_p4`.

    Returns
    -------
    edges : numpy.ndarray
        ``(bins + 1,)`` edges in :math:`\ln(p + e)`.
    counts : numpy.ndarray
        ``(B, bins)`` number of peaks per bin (float64); the total grows about as ``n^3``.
    """
    x = _cubes(cubes, "cubes")
    _check_peak_options(window, boundary)
    edges = peak_histogram_edges(bins, lim)
    counts = np.empty((x.shape[0], len(edges) - 1))
    for b in range(x.shape[0]):
        peaks = peak_values_p4(_one_cube(x[b], "cubes", b), window, threshold, boundary)
        counts[b] = _unbounded_counts(np.log(peaks + np.e), edges)
    return edges, counts


def p4_statistics(cubes: Any, box_length: float | None = None, boundary: str = "reflect") -> dict[str, np.ndarray]:
    """The three statistics of P4's Table 1 for every cube, a feature set for :func:`table1_compare`.

    Parameters
    ----------
    cubes : array_like or torch.Tensor
        ``(B, n, n, n)`` particle counts per voxel (>= 0).
    box_length : float, optional
        Box side for the power spectrum (default ``350 n / 256``; it does not change the scores).
    boundary : str
        Peak-window edges, see :func:`peak_mask_p4` (default the authors' ``"reflect"``).

    Returns
    -------
    dict
        ``psd`` ``(B, n_k)``, ``mass_hist`` ``(B, 20)``, ``peak_hist`` ``(B, 20)``.
    """
    _, psd = power_spectrum_p4(cubes, box_length)
    _, mass = mass_histogram_p4(cubes)
    _, peaks = peak_histogram_p4(cubes, boundary=boundary)
    return {"psd": psd, "mass_hist": mass, "peak_hist": peaks}


# ====================================================================== the score
def normalised_log_statistic(real: Any, other: Any, floor: float = LOG_FLOOR) -> tuple[np.ndarray, np.ndarray]:
    r"""The authors' log statistics: :math:`\log_{10}(s / M + \text{floor})`, :math:`M = \max_b \langle s^r_b \rangle`.

    Both sets are divided by the same ``M``, the largest bin of the mean *real* statistic.
    :func:`gancosmo.stats.compare.log_statistic` instead adds :math:`M/10^5` without dividing;
    its log statistics are these plus :math:`\log_{10} M` on both sides, so the Frechet distance
    is the same, but the values printed and plotted here are the authors' ones.

    Parameters
    ----------
    real, other : array_like
        ``(n_real, n_bins)`` and ``(n_other, n_bins)`` non-negative statistics on the same bins.
    floor : float
        Added before the logarithm (P4: 1e-5).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The two log statistics, shapes as the inputs.
    """
    r, o = _statistic(real, "real"), _statistic(other, "other")
    if r.shape[1] != o.shape[1]:
        raise ValueError(f"real has {r.shape[1]} bins but other has {o.shape[1]}; accepted are the same bins.")
    scale = float(np.max(r.mean(axis=0)))
    if scale <= 0:
        raise ValueError("the mean real statistic is zero in every bin; accepted is a statistic with a positive bin.")
    return np.log10(r / scale + floor), np.log10(o / scale + floor)


def frechet_d2(real: Any, other: Any) -> float:
    r"""P4's :math:`d^2` between Gaussians fitted to the log statistics of two sets.

    Means and covariances (``n - 1`` normalisation) of :func:`normalised_log_statistic`, then
    :func:`gancosmo.stats.compare.frechet_distance` (the authors' formula; its symmetric
    square root equals their ``scipy.linalg.sqrtm(C_r C_f)`` trace and stays stable when the
    covariances are singular, as they are with fewer cubes than bins). Its rounding error is
    then about ``1e-8 (Tr C_r + Tr C_f)``: a value below ``1e-6 (Tr C_r + Tr C_f)`` (identical
    Gaussian fits) is returned as exactly 0.

    Parameters
    ----------
    real, other : array_like
        ``(n_real, n_bins)`` and ``(n_other, n_bins)`` statistics, at least 2 samples each.

    Returns
    -------
    float
        :math:`d^2 \ge 0` (dimensionless, in squared decades).
    """
    log_real, log_other = normalised_log_statistic(real, other)
    mean_r, mean_o = log_real.mean(axis=0), log_other.mean(axis=0)
    cov_r = np.atleast_2d(np.cov(log_real, rowvar=False))
    cov_o = np.atleast_2d(np.cov(log_other, rowvar=False))
    d2 = frechet_distance(mean_r, cov_r, mean_o, cov_o)
    if d2 <= D2_ROUNDING * (np.trace(cov_r) + np.trace(cov_o)):
        return 0.0
    return float(d2)


def s_star_from_d2(d2: float) -> float:
    """P4's score :math:`S^* = 1/d^2`; ``inf`` for :math:`d^2 = 0` (identical Gaussian fits)."""
    d2 = float(d2)
    if not d2 >= 0:
        raise ValueError(f"d2 is {d2!r}; accepted is a squared distance >= 0.")
    return math.inf if d2 == 0 else 1.0 / d2


def p4_score(real: Any, other: Any) -> float:
    """P4's score :math:`S^*` of ``other`` against ``real`` (:func:`frechet_d2`, :func:`s_star_from_d2`)."""
    return s_star_from_d2(frechet_d2(real, other))


# ====================================================================== Table 1
def benchmark_splits(n_real: int, n_splits: int = N_SPLITS, seed: int = 0, parents: Any = None) -> RealSplits:
    """Real-vs-real half/half splits of ``n_real`` cubes: ``n_real // 2`` cubes on each side.

    Parameters
    ----------
    n_real : int
        Real cubes in the pool.
    n_splits : int
        Random pairs for the band (at least 20; default 39: the band is then their range).
    seed : int
        Seed of the draws (same seed, same splits).
    parents : array_like, optional
        ``(n_real,)`` parent of every cube (the simulation it was cut from): no parent is on
        both sides of a pair. Default: every cube its own parent (P4's independent boxes).

    Returns
    -------
    RealSplits
        ``a``, ``b``: the pair the generated set is scored on (against ``a``); ``draws[1:]``:
        the random pairs of the band. Indices into the real cubes.
    """
    if isinstance(n_real, bool) or int(n_real) != n_real or n_real < 4:
        raise ValueError(f"n_real is {n_real!r}; accepted are at least 4 real cubes (two halves of 2).")
    p = np.arange(int(n_real)) if parents is None else np.asarray(parents)
    if p.shape != (int(n_real),):
        raise ValueError(f"parents has shape {p.shape}; accepted is one parent per real cube, ({int(n_real)},).")
    return real_vs_real_splits(p, int(n_real) // 2, n_splits=n_splits, seed=seed)


def table1_compare(real: dict, other: dict) -> dict[str, float]:
    """:math:`d^2` of every Table 1 statistic, ``other`` against ``real`` (feature sets of :func:`p4_statistics`).

    Returns ``{"psd_d2", "mass_hist_d2", "peak_hist_d2"}``; a ``compare`` for
    :func:`gancosmo.evaluation.protocol.score`.
    """
    return {f"{name}_d2": frechet_d2(real[name], other[name]) for name in STATISTICS}


def table1_row_specs(prefix: str = "p4", n_half: int | None = None) -> list[RowSpec]:
    """Scorecard rows of Table 1: :math:`d^2` of each statistic, one-sided bands from 0.

    Parameters
    ----------
    prefix : str
        Start of the row keys (``{prefix}_psd_d2`` etc.).
    n_half : int, optional
        Cubes on each side, for the notes.
    """
    size = f"{n_half} vs {n_half} cubes" if n_half else "half the real cubes on each side"
    specs = []
    for name in STATISTICS:
        paper = PAPER_TABLE1[name]
        specs.append(
            RowSpec(
                f"{prefix}_{name}_d2",
                f"Table 1, {STATISTIC_WORDS[name]}: Frechet distance d^2 of the normalised log10 statistic",
                paper=paper["d2"],
                notes=(
                    f"{size}; paper at 30 vs 30: S* = 1/d^2 = {paper['s_star']:g}, reference S* (15 vs 15 real) "
                    f"= {paper['reference_s_star']:g}; d^2 shrinks with N, so the band is drawn at our N"
                ),
                source=f"{name}_d2",
                sided="upper",
                floor=0.0,
            )
        )
    return specs


def table2_row_specs(side: int, prefix: str, n_half: int | None = None) -> list[RowSpec]:
    """Scorecard rows of Table 2 (2D baselines of ``side^2`` images): :math:`d^2` of each statistic.

    The paper gives only :math:`S^*` for Table 2; the rows' ``paper`` is its :math:`1/S^*`.
    """
    size = f"{n_half} vs {n_half} images" if n_half else "half the real images on each side"
    paper = PAPER_TABLE2.get(int(side))
    specs = []
    for name in STATISTICS:
        notes = f"{size}, slices of parent-disjoint halves of the test cubes; "
        notes += f"paper S* = {paper[name]:g} (its sets' sizes unstated)" if paper else "no paper value at this side"
        specs.append(
            RowSpec(
                f"{prefix}_{name}_d2",
                f"Table 2 ({side}^2 images), {STATISTIC_WORDS[name]}: Frechet distance d^2 of the normalised log10 "
                "statistic",
                paper=1.0 / paper[name] if paper else None,
                notes=notes,
                source=f"{name}_d2",
                sided="upper",
                floor=0.0,
            )
        )
    return specs


@dataclass
class Table1:
    """P4's Table 1 for one generated set, the authors' way and the book's way.

    Attributes
    ----------
    d2, s_star : dict
        Statistic name -> :math:`d^2` and :math:`S^*` of the generated set (as many cubes as
        real) against all real cubes (the authors' Table 1 rows 1-2).
    reference_d2, reference_s_star : dict
        Statistic name -> the first half of the real cubes against the second half (row 3; with
        an odd number of real cubes the last is left out, so that both halves are equal).
    scores : gancosmo.evaluation.protocol.Scores
        The book's equal-size comparisons: the generated set's first ``n_half`` cubes against
        real half A (``ours``), the null's against A (``null``) and every random half/half
        pair (``splits``), keys ``{name}_d2``.
    splits : RealSplits
        The pairs behind ``scores``.
    n_real, n_half : int
        Real cubes; cubes per side in ``scores``.
    """

    d2: dict
    s_star: dict
    reference_d2: dict
    reference_s_star: dict
    scores: Scores = field(repr=False)
    splits: RealSplits = field(repr=False)
    n_real: int = 0
    n_half: int = 0

    def band(self, name: str) -> tuple[float, float] | None:
        """The real-vs-real band of :math:`d^2` of statistic ``name`` at ``n_half`` per side (one-sided, from 0)."""
        return self.scores.band(f"{name}_d2", sided="upper", floor=0.0)

    def rows(self, prefix: str = "p4") -> list[Row]:
        """Scorecard rows (:func:`table1_row_specs`) with band, reference, null and verdicts."""
        return rows_from_scores(table1_row_specs(prefix, self.n_half), self.scores)

    def format(self) -> str:
        """Table 1 as text: our values beside the paper's, the authors' way, then our band."""
        head = f"{'':34s}" + "".join(f"{STATISTIC_WORDS[n]:>18s}" for n in STATISTICS)
        lines = [head]

        def line(label: str, values: dict) -> str:
            return f"{label:34s}" + "".join(f"{values[n]:18.4g}" for n in STATISTICS)

        h = self.n_real // 2
        lines.append(line(f"d^2 ({self.n_real} vs {self.n_real})", self.d2))
        lines.append(line("d^2 (paper, 30 vs 30)", {n: PAPER_TABLE1[n]["d2"] for n in STATISTICS}))
        lines.append(line(f"S* ({self.n_real} vs {self.n_real})", self.s_star))
        lines.append(line("S* (paper)", {n: PAPER_TABLE1[n]["s_star"] for n in STATISTICS}))
        lines.append(line(f"reference S* ({h} vs {h} real)", self.reference_s_star))
        lines.append(
            line("reference S* (paper, 15 vs 15)", {n: PAPER_TABLE1[n]["reference_s_star"] for n in STATISTICS})
        )
        lines.append(line(f"d^2 ({self.n_half} vs real half A)", {n: self.scores.ours[f"{n}_d2"] for n in STATISTICS}))
        bands = {n: self.band(n) for n in STATISTICS}
        lines.append(
            f"{'real-vs-real band of d^2':34s}"
            + "".join(f"{'-' if b is None else f'[{b[0]:.3g}, {b[1]:.3g}]':>18s}" for b in bands.values())
        )
        return "\n".join(lines)


def _statistic_set(features: dict, name: str) -> dict[str, np.ndarray]:
    missing = [s for s in STATISTICS if s not in features]
    if missing:
        raise ValueError(f"{name} lacks {', '.join(missing)}; accepted is a feature set of p4_statistics.")
    out = {s: _statistic(features[s], f"{name}[{s!r}]") for s in STATISTICS}
    if len({len(v) for v in out.values()}) != 1:
        raise ValueError(f"the statistics of {name} have different numbers of cubes; accepted is one row per cube.")
    return out


def table1_from_statistics(
    real: dict,
    fake: dict,
    null: dict | None = None,
    parents: Any = None,
    n_splits: int = N_SPLITS,
    seed: int = 0,
) -> Table1:
    """:class:`Table1` from per-cube statistics (feature sets of :func:`p4_statistics`).

    Parameters
    ----------
    real : dict
        Statistics of the real cubes (at least 4).
    fake : dict
        Statistics of the generated cubes, at least as many as real (the first ``n_real`` are
        used against all real, the first ``n_real // 2`` against real half A).
    null : dict, optional
        Statistics of the null cubes (e.g. lognormal), at least ``n_real // 2``.
    parents, n_splits, seed
        See :func:`benchmark_splits`.
    """
    r = _statistic_set(real, "real")
    f = _statistic_set(fake, "fake")
    z = None if null is None else _statistic_set(null, "null")
    n_real = len(r["psd"])
    if len(f["psd"]) < n_real:
        raise ValueError(
            f"fake has {len(f['psd'])} cubes and real {n_real}; accepted are at least as many generated cubes as "
            "real (both sides of a comparison equal)."
        )
    half = n_real // 2
    d2 = {s: frechet_d2(r[s], f[s][:n_real]) for s in STATISTICS}
    reference_d2 = {s: frechet_d2(r[s][:half], r[s][half : 2 * half]) for s in STATISTICS}
    splits = benchmark_splits(n_real, n_splits=n_splits, seed=seed, parents=parents)
    scores = score(table1_compare, r, splits, f, z)
    return Table1(
        d2=d2,
        s_star={s: s_star_from_d2(v) for s, v in d2.items()},
        reference_d2=reference_d2,
        reference_s_star={s: s_star_from_d2(v) for s, v in reference_d2.items()},
        scores=scores,
        splits=splits,
        n_real=n_real,
        n_half=half,
    )


def table1(
    real_cubes: Any,
    fake_cubes: Any,
    null_cubes: Any = None,
    parents: Any = None,
    n_splits: int = N_SPLITS,
    seed: int = 0,
    box_length: float | None = None,
    boundary: str = "reflect",
) -> Table1:
    """P4's Table 1 of generated particle-count cubes against real ones (:class:`Table1`).

    Parameters
    ----------
    real_cubes, fake_cubes : array_like or torch.Tensor
        ``(n_real, n, n, n)`` and ``(n_fake, n, n, n)`` particle counts, ``n_fake >= n_real >= 4``.
    null_cubes : array_like, optional
        ``(>= n_real // 2, n, n, n)`` null cubes scored like the generated ones.
    parents, n_splits, seed
        See :func:`benchmark_splits`.
    box_length, boundary
        See :func:`p4_statistics`.
    """
    real = _cubes(real_cubes, "real_cubes")
    fake = _cubes(fake_cubes, "fake_cubes")
    if fake.shape[1:] != real.shape[1:]:
        raise ValueError(f"fake cubes are {fake.shape[1:]} and real {real.shape[1:]}; accepted are cubes of one size.")
    null = None
    if null_cubes is not None:
        null = p4_statistics(_cubes(null_cubes, "null_cubes"), box_length, boundary)
    return table1_from_statistics(
        p4_statistics(real, box_length, boundary),
        p4_statistics(fake, box_length, boundary),
        null,
        parents=parents,
        n_splits=n_splits,
        seed=seed,
    )


# ====================================================================== patch seams
def seam_harmonic_indices(n: int, patch_size: int, n_harmonics: int = 3) -> np.ndarray:
    """Fourier indices ``j n / patch_size`` (``j = 1 .. n_harmonics``) of the patch wavenumber's harmonics.

    Parameters
    ----------
    n : int
        Cube side in voxels.
    patch_size : int
        Patch side in voxels; must divide ``n`` and be at most ``n / 2`` (seams inside the cube).
    n_harmonics : int
        Number of harmonics; the last index must not exceed the Nyquist index ``n / 2``.

    Returns
    -------
    numpy.ndarray
        ``(n_harmonics,)`` integer indices.
    """
    n, p = int(n), int(patch_size)
    if p < 1 or n % p or n // p < 2:
        raise ValueError(
            f"patch_size is {patch_size!r} for cubes of side {n}; accepted is a divisor of {n} of at most {n // 2}."
        )
    step = n // p
    most = (n // 2) // step
    if isinstance(n_harmonics, bool) or int(n_harmonics) != n_harmonics or not 1 <= n_harmonics <= most:
        raise ValueError(
            f"n_harmonics is {n_harmonics!r}; accepted is 1 to {most} (harmonics up to the Nyquist index {n // 2})."
        )
    return step * np.arange(1, int(n_harmonics) + 1)


def seam_wavenumbers(n: int, patch_size: int, box_length: float | None = None, n_harmonics: int = 3) -> np.ndarray:
    r"""Wavenumbers :math:`2\pi j / L_\mathrm{patch}` of the harmonics, radians per unit of ``box_length``.

    The smallest :math:`|\mathbf k|` of each harmonic's shell (its wavevectors along an axis).
    ``box_length`` defaults to :func:`p4_box_length` ``(n)``; :math:`L_\mathrm{patch}` =
    ``box_length * patch_size / n``.
    """
    box = p4_box_length(n) if box_length is None else float(box_length)
    return 2.0 * np.pi * seam_harmonic_indices(n, patch_size, n_harmonics) / box


def _patch_grid_cells(n: int, step: int, harmonic: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices (full FFT cube) of harmonic ``harmonic``'s patch-grid cells and of the cells next to them.

    The grid cells have signed indices ``step * (a, b, c)`` with ``max(|a|, |b|, |c|) = harmonic``;
    the cells next to them are those one index away along one axis (never grid cells, as
    ``step >= 2``).
    """
    multiples = step * np.arange(-harmonic, harmonic + 1)
    a, b, c = (v.ravel() for v in np.meshgrid(multiples, multiples, multiples, indexing="ij"))
    on_shell = np.maximum(np.maximum(np.abs(a), np.abs(b)), np.abs(c)) == step * harmonic
    grid = np.stack([a[on_shell], b[on_shell], c[on_shell]], axis=1)
    offsets = np.concatenate([np.eye(3, dtype=int), -np.eye(3, dtype=int)])
    beside = (grid[:, None, :] + offsets[None, :, :]).reshape(-1, 3)

    def flat(v: np.ndarray) -> np.ndarray:
        return np.unique(np.ravel_multi_index(tuple((v % n).T), (n, n, n)))

    return flat(grid), flat(beside)


def seam_contrast(cubes: Any, patch_size: int, n_harmonics: int = 3) -> np.ndarray:
    r"""Power at the patch grid's wavevectors of each cube over the power of the cells next to them.

    For harmonic ``j``: the mean :math:`|\tilde\delta|^2` over the Fourier cells
    :math:`\mathbf k = 2\pi (a, b, c) / L_\mathrm{patch}` with :math:`\max(|a|, |b|, |c|) = j` (26
    cells for ``j = 1`` below the Nyquist index), divided by the mean over the cells one index away from them along
    one axis. Anything repeated in every patch (a jump at the patch edges, a profile that
    depends on the position inside the patch) is periodic with the patch side and has Fourier
    components only on the grid, so it raises the contrast; a smooth isotropic field gives
    about 1 (a little off with the slope of its spectrum: the real-vs-real band calibrates
    that). A ratio per cube, so a wrong overall amplitude of P(k) does not change it. Jumps
    that differ from patch to patch spread their power over all k and are not singled out.

    Parameters
    ----------
    cubes : array_like or torch.Tensor
        ``(B, n, n, n)`` fields (particle counts; :math:`\delta = x / \bar x - 1`).
    patch_size : int
        Patch side in voxels (P4: 32).
    n_harmonics : int
        Harmonics ``j = 1 .. n_harmonics`` (see :func:`seam_harmonic_indices`).

    Returns
    -------
    numpy.ndarray
        ``(B, n_harmonics)`` contrasts (NaN for a cube without power beside the grid cells).
    """
    x = _cubes(cubes, "cubes")
    n = x.shape[1]
    indices = seam_harmonic_indices(n, patch_size, n_harmonics)
    step = int(indices[0])
    cells = [_patch_grid_cells(n, step, j) for j in range(1, len(indices) + 1)]
    out = np.empty((x.shape[0], len(indices)))
    for b in range(x.shape[0]):
        cube = _one_cube(x[b], "cubes", b)
        mean = cube.mean()
        delta = cube / mean - 1.0 if mean != 0 else np.zeros_like(cube)
        power = (np.abs(np.fft.fftn(delta)) ** 2).ravel()
        for j, (grid, beside) in enumerate(cells):
            with np.errstate(invalid="ignore", divide="ignore"):
                out[b, j] = power[grid].mean() / power[beside].mean()
    return out


def seam_compare(real: dict, other: dict) -> dict[str, float]:
    """Mean seam contrast of ``other`` over that of ``real``, per harmonic: ``{"seam_ratio_1", ...}``.

    Feature sets hold ``seam`` ``(n_samples, n_harmonics)`` (:func:`seam_contrast`); a
    ``compare`` for :func:`gancosmo.evaluation.protocol.score`.
    """
    r, o = np.asarray(real["seam"], float), np.asarray(other["seam"], float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = o.mean(axis=0) / r.mean(axis=0)
    return {f"seam_ratio_{j + 1}": float(v) for j, v in enumerate(ratio)}


def seam_row_specs(
    patch_size: int, n_harmonics: int = 3, prefix: str = "p4", n_half: int | None = None
) -> list[RowSpec]:
    """Scorecard rows of the seam statistic, one per harmonic.

    One-sided (``sided="upper"``): seams add power at the patch grid's wavevectors, so the row
    fails only above the band; a deficit there is no seam and is judged by the power-spectrum rows.
    """
    size = f"{n_half} vs {n_half} cubes" if n_half else "half the real cubes on each side"
    return [
        RowSpec(
            f"{prefix}_seam_ratio_{j}",
            f"patch seams: power at the patch grid's wavevectors (harmonic {j} of 2 pi / L_patch) over the "
            "cells next to them, generated / real",
            paper="transitions between patches imperfect (Sect. 5)" if j == 1 else None,
            notes=f"patch side {int(patch_size)} voxels; {size}; ratio of mean per-cube contrasts",
            source=f"seam_ratio_{j}",
            sided="upper",
            floor=0.0,
        )
        for j in range(1, int(n_harmonics) + 1)
    ]


@dataclass
class SeamBenchmark:
    """The seam statistic of a generated set against the real cubes, with its real-vs-real band.

    Attributes
    ----------
    patch_size : int
        Patch side in voxels.
    k : numpy.ndarray
        ``(n_harmonics,)`` wavenumbers of the harmonics (:func:`seam_wavenumbers`).
    contrast_real, contrast_fake : numpy.ndarray
        ``(n_harmonics,)`` mean contrast of all real cubes and of as many generated ones.
    scores : gancosmo.evaluation.protocol.Scores
        Keys ``seam_ratio_{j}``: generated (first ``n_half``) vs real half A, null vs A, random
        half/half real pairs.
    splits : RealSplits
        The pairs behind ``scores``.
    n_half : int
        Cubes per side.
    """

    patch_size: int
    k: np.ndarray
    contrast_real: np.ndarray
    contrast_fake: np.ndarray
    scores: Scores = field(repr=False)
    splits: RealSplits = field(repr=False)
    n_half: int = 0

    def rows(self, prefix: str = "p4") -> list[Row]:
        """Scorecard rows (:func:`seam_row_specs`) with band, reference, null and verdicts."""
        return rows_from_scores(seam_row_specs(self.patch_size, len(self.k), prefix, self.n_half), self.scores)


def seam_benchmark(
    real_cubes: Any,
    fake_cubes: Any,
    patch_size: int,
    null_cubes: Any = None,
    n_harmonics: int = 3,
    parents: Any = None,
    n_splits: int = N_SPLITS,
    seed: int = 0,
    box_length: float | None = None,
) -> SeamBenchmark:
    """The seam statistic (:func:`seam_contrast`) of generated cubes against real ones (:class:`SeamBenchmark`).

    Parameters
    ----------
    real_cubes, fake_cubes : array_like or torch.Tensor
        ``(n_real, n, n, n)`` and ``(n_fake, n, n, n)`` fields, ``n_fake >= n_real // 2``.
    patch_size : int
        Patch side in voxels of the generator (P4: 32).
    null_cubes : array_like, optional
        Null cubes scored like the generated ones.
    n_harmonics : int
        Harmonics of the patch wavenumber.
    parents, n_splits, seed
        See :func:`benchmark_splits`.
    box_length : float, optional
        For the wavenumbers only (default ``350 n / 256``).
    """
    real = _cubes(real_cubes, "real_cubes")
    fake = _cubes(fake_cubes, "fake_cubes")
    if fake.shape[1:] != real.shape[1:]:
        raise ValueError(f"fake cubes are {fake.shape[1:]} and real {real.shape[1:]}; accepted are cubes of one size.")
    real_features = {"seam": seam_contrast(real, patch_size, n_harmonics)}
    fake_features = {"seam": seam_contrast(fake, patch_size, n_harmonics)}
    null_features = None if null_cubes is None else {"seam": seam_contrast(null_cubes, patch_size, n_harmonics)}
    n_real = real.shape[0]
    splits = benchmark_splits(n_real, n_splits=n_splits, seed=seed, parents=parents)
    scores = score(seam_compare, real_features, splits, fake_features, null_features)
    return SeamBenchmark(
        patch_size=int(patch_size),
        k=seam_wavenumbers(real.shape[1], patch_size, box_length, n_harmonics),
        contrast_real=real_features["seam"].mean(axis=0),
        contrast_fake=fake_features["seam"][:n_real].mean(axis=0),
        scores=scores,
        splits=splits,
        n_half=n_real // 2,
    )
