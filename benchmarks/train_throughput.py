"""Training throughput: the gancosmo engine vs a plain eager fp32 PyTorch loop, side by side.

Both loops run in one process on the same device, in alternating rounds (so that a slow spell of
a shared machine slows both), same networks, same random data, same step
structure (one discriminator step on a real batch and a fresh fake batch, then one generator
step, non-saturating cross-entropy, Adam). The plain loop is fp32 eager with nothing added;
the engine uses what ``gancosmo.train.hardware`` chooses on that device (CUDA: bf16 autocast,
channels-last, fused Adam, and ``torch.compile`` with ``--compile``; a CPU with native bf16:
bf16 autocast and channels-last; other CPUs: plain fp32, where the ratio measures the
engine's overhead). Two networks: P1's DCGAN on maps (``--network p1``) and P3's 3D DCGAN on
cubes (``--network dcgan3d``); ``--network both`` (the default) times each.

    python benchmarks/train_throughput.py --device cpu --out results/training/train_throughput_cpu.json
    python benchmarks/train_throughput.py --device cuda --steps 100 --compile \
        --out results/training/train_throughput_gpu.json

CPU defaults: P1 at 64^2, base width 32, batch 64; the 3D DCGAN at 32^3, filters (64, 32, 16),
batch 16. GPU defaults: P1 at 256^2, width 64, batch 64; 3D at 64^3, Table I's filters, batch 16.
Prints samples/s of each loop and their ratio (engine / plain); ``--out`` writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
import torch.nn.functional as F
from gancosmo.models.cosmogan import cosmogan
from gancosmo.models.dcgan3d import dcgan3d
from gancosmo.train import TrainConfig, Trainer


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def plain_stepper(G, D, data, batch, device):
    """One fp32 eager DCGAN step, no tricks (the reference): returns ``step()``."""
    G, D = G.to(device), D.to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    data = data.to(device)
    latent = G.latent_dim

    def step():
        idx = torch.randint(0, len(data), (batch,), device=device)
        real = data[idx].unsqueeze(1)  # (B, 1, side, side) maps or (B, 1, side, side, side) cubes
        with torch.no_grad():
            fake = G(torch.randn(batch, latent, device=device))
        out_r, out_f = D(real), D(fake)
        loss_d = F.binary_cross_entropy_with_logits(out_r, torch.ones_like(out_r)) + F.binary_cross_entropy_with_logits(
            out_f, torch.zeros_like(out_f)
        )
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        out = D(G(torch.randn(batch, latent, device=device)))
        loss_g = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()

    return step


def engine_stepper(G, D, data, batch, device, compile_):
    """One generator step of the gancosmo Trainer on the same work: returns ``(step(), device settings)``."""
    cfg = TrainConfig(
        loss="bce",
        optimizer="adam",
        lr_g=2e-4,
        lr_d=2e-4,
        betas=(0.5, 0.999),
        batch_size=batch,
        latent_dim=G.latent_dim,
        max_steps=10**9,
        device=str(device),
        compile=compile_,
        progress=False,
        tensorboard=False,
        log_every=10**9,
    )
    trainer = Trainer(G, D, data, cfg)
    return trainer.train_step, trainer.settings.to_dict()


def timed(step, n, device) -> float:
    """Seconds for ``n`` calls of ``step``."""
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    _sync(device)
    return time.perf_counter() - t0


#: Network sizes per device kind: (side, width or filters, batch).
DEFAULTS = {
    "p1": {"cpu": (64, 32, 64), "cuda": (256, 64, 64)},
    "dcgan3d": {"cpu": (32, (64, 32, 16), 16), "cuda": (64, (256, 128, 64, 32), 16)},
}


def build(network: str, size, width):
    """``(G, D, data)`` of ``network`` at ``size`` pixels per side and ``width`` (P1) / ``filters`` (3D)."""
    gen = torch.Generator().manual_seed(0)
    if network == "p1":
        G, D = cosmogan(base_filters=width, map_size=size, seed=0)
        data = torch.tanh(torch.randn(256, size, size, generator=gen))
    else:
        filters = tuple(width)
        if 4 * 2 ** len(filters) != size:
            raise SystemExit(f"--filters {filters} make {4 * 2 ** len(filters)}^3 cubes, not {size}^3.")
        G, D = dcgan3d(filters, latent_dim=100, seed=0)
        data = torch.tanh(torch.randn(64, size, size, size, generator=gen))
    return G, D, data


def measure(network, device, steps, warmup, batch, size, width, compile_, rounds=5):
    """Plain and engine steps timed in alternating rounds of ``steps // rounds`` steps each, so that a
    slow spell of the machine (a shared host) hits both: medians of each rate and of the per-round ratios."""
    G, D, data = build(network, size, width)
    plain = plain_stepper(G, D, data, batch, device)
    G, D, data = build(network, size, width)
    engine, settings = engine_stepper(G, D, data, batch, device, compile_)
    timed(plain, warmup, device), timed(engine, warmup, device)
    per_round = max(1, steps // rounds)
    plain_rates, engine_rates = [], []
    for _ in range(rounds):
        plain_rates.append(per_round * batch / timed(plain, per_round, device))
        engine_rates.append(per_round * batch / timed(engine, per_round, device))
    ratios = [e / p for e, p in zip(engine_rates, plain_rates)]
    return dict(
        network=network,
        side=size,
        width=width if network == "p1" else list(width),
        batch=batch,
        steps=per_round * rounds,
        rounds=rounds,
        warmup=warmup,
        compile=compile_,
        engine_settings=settings,
        plain_samples_per_s=round(float(np.median(plain_rates)), 2),
        engine_samples_per_s=round(float(np.median(engine_rates)), 2),
        ratio=round(float(np.median(ratios)), 3),
        ratio_per_round=[round(r, 3) for r in ratios],
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    ap.add_argument("--network", default="both", choices=("p1", "dcgan3d", "both"))
    ap.add_argument("--steps", type=int, default=None, help="timed steps of each loop (default: 100 GPU, 40 CPU)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds the timed steps are split into")
    ap.add_argument("--warmup", type=int, default=None, help="untimed steps first (default: 10 GPU, 3 CPU)")
    ap.add_argument("--batch", type=int, default=None, help="batch size (default: see the module docstring)")
    ap.add_argument("--size", type=int, default=None, help="map / cube side (default: see the module docstring)")
    ap.add_argument("--base-filters", type=int, default=None, help="P1's network width")
    ap.add_argument("--compile", action="store_true", help="let the engine use torch.compile")
    ap.add_argument("--out", default=None, help="write the results to this JSON file")
    args = ap.parse_args(argv)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    kind = "cuda" if device.type == "cuda" else "cpu"
    steps = args.steps or (100 if kind == "cuda" else 40)
    warmup = args.warmup if args.warmup is not None else (10 if kind == "cuda" else 3)
    for name, v in (("steps", steps), ("batch", args.batch), ("size", args.size)):
        if v is not None and v < 1:
            raise SystemExit(f"--{name} must be >= 1, got {v}.")
    networks = ("p1", "dcgan3d") if args.network == "both" else (args.network,)
    runs = []
    for network in networks:
        size, width, batch = DEFAULTS[network][kind]
        size = args.size or size if network == args.network else size
        batch = args.batch or batch if network == args.network else batch
        if network == "p1" and args.base_filters:
            width = args.base_filters
        run = measure(network, device, steps, warmup, batch, size, width, args.compile, rounds=max(1, args.rounds))
        runs.append(run)
        print(
            f"{network:8s} {size}^{2 if network == 'p1' else 3} batch {batch}: plain eager fp32 "
            f"{run['plain_samples_per_s']:8.1f} samples/s, gancosmo engine {run['engine_samples_per_s']:8.1f} "
            f"({run['engine_settings']['precision']}, channels-last {run['engine_settings']['channels_last']}): "
            f"ratio {run['ratio']:.2f}x"
        )
    result = dict(
        device=str(torch.cuda.get_device_name(device) if kind == "cuda" else "cpu"),
        threads=torch.get_num_threads(),
        runs=runs,
    )
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=2)
    return result


if __name__ == "__main__":
    main()
