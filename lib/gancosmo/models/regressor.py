"""P2's parameter regressor (Table A2, Appendix B): maps -> (Omega_m, sigma_8), the FID's feature network.

Layers: the critic's convolutions (7 x 7 stride 1, then four stride-2 convolutions with
kernels 5, 5, 5, 3; channels 1, 2, 4, 8, 16 times ``width``, Table A2: ``width=32``),
LeakyReLU(0.2), flatten (``16 width (map_size/16)^2`` features; P2's 128-pixel maps: 8 x 8 per
channel), linear layers 512 -> 256 -> 128 (LeakyReLU) and a linear output of two numbers.
Training (Appendix B): mean squared error, Adam (lr 3e-5, betas 0.9/0.999,
eps 1e-8), batch 64, 20 epochs on 80% of the maps of the training cosmologies; the other 20%
give the test MSE (P2: 8.93e-5). :func:`train_regressor` can stop early on a dev set (the
epoch with the lowest dev MSE is kept). Sizes are explicit: ``Regressor(width, map_size=...)``,
:data:`PAPER_WIDTH` is Table A2's, :data:`PAPER_MAP_SIZE` (128 pixels per side) P2's maps.

The network predicts standardized parameters internally (``(y - mean) / std`` of the
training labels, stored as buffers) and returns them in physical units, so the MSE is in
the units of (Omega_m, sigma_8) as P2's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .conditional import (
    PAPER_MAP_SIZE,
    PAPER_WIDTH,
    _check_width,
    check_map_batch,
    check_map_size,
    conv_trunk,
    trunk_features,
)

__all__ = [
    "PAPER_MAP_SIZE",
    "PAPER_WIDTH",
    "Regressor",
    "RegressorFit",
    "mse",
    "predict",
    "split_regressor_data",
    "train_regressor",
]


class Regressor(nn.Module):
    """Table A2: ``(B, 1, map_size, map_size)`` maps (scaled) -> ``(B, 2)`` parameters (Omega_m, sigma_8).

    ``map_size`` (pixels per side, a power of two >= 32; P2: 128) sets the features of the
    first linear layer, ``16 width (map_size/16)^2``.
    """

    def __init__(self, width: int, n_params: int = 2, map_size: int = PAPER_MAP_SIZE):
        super().__init__()
        _check_width(width)
        check_map_size(map_size)
        self.width, self.map_size = width, map_size
        self.trunk = conv_trunk(width)
        self.head = nn.Sequential(
            nn.Linear(trunk_features(width, map_size), 512),
            nn.LeakyReLU(0.2),
            nn.Linear(512, 256),
            nn.LeakyReLU(0.2),
            nn.Linear(256, 128),
            nn.LeakyReLU(0.2),
            nn.Linear(128, n_params),
        )
        self.register_buffer("y_mean", torch.zeros(n_params))
        self.register_buffer("y_std", torch.ones(n_params))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            x = x.unsqueeze(1)
        check_map_batch(x, self.map_size, "the regressor")
        return self.head(self.trunk(x)) * self.y_std + self.y_mean


def split_regressor_data(n: int, fraction: float = 0.8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random ``(train_idx, test_idx)`` over ``n`` maps, ``fraction`` for training (P2: 0.8)."""
    if not (isinstance(n, (int, np.integer)) and n >= 2):
        raise ValueError(f"need at least 2 maps to split for the regressor, got {n!r}.")
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction!r}.")
    perm = np.random.default_rng(seed).permutation(int(n))
    k = min(max(1, int(round(fraction * n))), n - 1)
    return np.sort(perm[:k]), np.sort(perm[k:])


@dataclass
class RegressorFit:
    """What :func:`train_regressor` did: training loss per epoch, dev MSE per epoch and the epoch kept."""

    losses: list
    dev_mse: list
    best_epoch: int  # 1-based epoch whose weights the model holds (the last one without a dev set)


def train_regressor(
    model: Regressor,
    maps: np.ndarray,
    params: np.ndarray,
    epochs: float = 20,
    lr: float = 3e-5,
    batch_size: int = 64,
    seed: int = 0,
    augment=None,
    device=None,
    progress: bool = True,
    dev: tuple | None = None,
) -> RegressorFit:
    """Train ``model`` with MSE and Adam (P2 Appendix B).

    Parameters
    ----------
    maps : numpy.ndarray
        ``(N, n, n)`` scaled maps, ``n = model.map_size``.
    params : numpy.ndarray
        ``(N, 2)`` true (Omega_m, sigma_8).
    epochs : float
        Passes over the maps (P2: 20); a fraction trains on part of an epoch.
    augment : callable, optional
        ``augment(x, generator)`` on each batch (e.g. P2's flips and rotations).
    dev : (maps, params), optional
        Held-out maps and labels: their MSE is measured after every epoch and the model ends
        with the weights of the epoch where it was lowest (early stopping).

    Returns
    -------
    RegressorFit
        The mean training loss of each epoch, the dev MSE of each epoch and the epoch kept.
    """
    from ..progress import progress_bar

    maps, params = np.asarray(maps, np.float32), np.asarray(params, np.float32)
    n_pix = model.map_size
    if maps.shape[1:] != (n_pix, n_pix) or params.shape != (len(maps), 2):
        raise ValueError(
            f"maps must be (N, {n_pix}, {n_pix}) and params (N, 2) for this regressor; got {maps.shape} and "
            f"{params.shape}."
        )
    if not (epochs > 0 and lr > 0 and batch_size >= 1):
        raise ValueError(f"epochs, lr and batch_size must be positive, got {epochs!r}, {lr!r}, {batch_size!r}.")
    where = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(where)
    with torch.no_grad():
        model.y_mean.copy_(torch.as_tensor(params.mean(0)))
        model.y_std.copy_(torch.as_tensor(np.maximum(params.std(0), 1e-6)))
    x_all, y_all = torch.from_numpy(maps), torch.from_numpy(params)
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    g = torch.Generator().manual_seed(int(seed))
    n = len(maps)
    total = max(1, int(round(epochs * n / batch_size)))
    per_epoch = max(1, -(-n // batch_size))
    losses, running, count, order, pos = [], 0.0, 0, torch.randperm(n, generator=g), 0
    dev_mse, best, best_state = [], (float("inf"), 0), None
    if dev is not None:
        dev_x, dev_y = np.asarray(dev[0], np.float32), np.asarray(dev[1], np.float32)
        if dev_x.shape[1:] != (n_pix, n_pix) or dev_y.shape != (len(dev_x), 2) or len(dev_x) < 1:
            raise ValueError(
                f"dev must be (maps (M, {n_pix}, {n_pix}), params (M, 2)) with M >= 1; got {dev_x.shape} and "
                f"{dev_y.shape}."
            )
    model.train()
    for step in progress_bar(total, "regressor", disable=not progress, iterable=range(total)):
        if pos >= n:
            order, pos = torch.randperm(n, generator=g), 0
        idx = order[pos : pos + batch_size]
        pos += batch_size
        x = x_all[idx].unsqueeze(1).to(where)
        if augment is not None:
            x = augment(x, g)
        y = y_all[idx].to(where)
        loss = ((model(x) - y) ** 2 / model.y_std**2).mean()  # standardized: both parameters weigh alike
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        running, count = running + float(loss.detach()), count + 1
        if (step + 1) % per_epoch == 0 or step + 1 == total:
            losses.append(running / count)
            running, count = 0.0, 0
            if dev is not None:
                dev_mse.append(mse(predict(model, dev_x), dev_y))
                model.train()
                if dev_mse[-1] < best[0]:
                    best = (dev_mse[-1], len(losses))
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return RegressorFit(losses=losses, dev_mse=dev_mse, best_epoch=best[1] if dev is not None else len(losses))


@torch.no_grad()
def predict(model: Regressor, maps: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Predicted ``(N, 2)`` (Omega_m, sigma_8) for scaled maps ``(N, n, n)``, ``n = model.map_size``."""
    dev = next(model.parameters()).device
    was = model.training
    model.eval()
    out = [
        model(torch.as_tensor(np.asarray(maps[s : s + batch_size], np.float32)).to(dev)).cpu().numpy()
        for s in range(0, len(maps), batch_size)
    ]
    model.train(was)
    return np.concatenate(out).astype(np.float64) if out else np.zeros((0, 2))


def mse(pred: np.ndarray, true: np.ndarray) -> float:
    """Mean squared error over maps and both parameters (P2's regressor test metric)."""
    p, t = np.asarray(pred, float), np.asarray(true, float)
    if p.shape != t.shape:
        raise ValueError(f"pred {p.shape} and true {t.shape} must have the same shape.")
    return float(np.mean((p - t) ** 2))
