"""Training throughput of P1's networks: the gancosmo engine vs a plain eager PyTorch loop.

Both run in one process on the same device, same networks, same random data, same step
structure (one discriminator step on a real batch and a fresh fake batch, then one generator
step). The plain loop is fp32 eager with nothing added; the engine uses what it uses on that
device (CUDA: bf16 autocast, channels-last, fused Adam, and ``torch.compile`` with
``--compile``; CPU: plain fp32, so the ratio there measures the engine's overhead).

    python benchmarks/train_throughput.py --device cpu --steps 20 --batch 16
    python benchmarks/train_throughput.py --device cuda --steps 100 --batch 64 --compile \
        --out results/train_throughput.json

Prints samples/s of each and their ratio (engine / plain); ``--out`` writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
import torch.nn.functional as F
from gancosmo.models.cosmogan import cosmogan
from gancosmo.train import TrainConfig, Trainer


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def plain_loop(G, D, data, steps, warmup, batch, device):
    """fp32 eager DCGAN training, no tricks: samples per second after ``warmup`` steps."""
    G, D = G.to(device), D.to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    data = data.to(device)
    latent = G.latent_dim
    start = None
    for i in range(warmup + steps):
        if i == warmup:
            _sync(device)
            start = time.perf_counter()
        idx = torch.randint(0, len(data), (batch,), device=device)
        real = data[idx].unsqueeze(1)
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
    _sync(device)
    return steps * batch / (time.perf_counter() - start)


def engine_loop(G, D, data, steps, warmup, batch, device, compile_):
    """The gancosmo Trainer on the same work: samples per second after ``warmup`` steps."""
    marks = {}

    def clock(trainer, step):
        if step in (warmup, warmup + steps):
            _sync(device)
            marks[step] = time.perf_counter()

    cfg = TrainConfig.p1(
        batch_size=batch,
        max_steps=warmup + steps,
        device=str(device),
        compile=compile_,
        progress=False,
        tensorboard=False,
        log_every=10**9,
        select_every=0,
    )
    Trainer(G, D, data, cfg, callbacks=[clock]).fit()
    return steps * batch / (marks[warmup + steps] - marks[warmup])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    ap.add_argument("--steps", type=int, default=None, help="timed generator steps (default: 100 GPU, 10 CPU)")
    ap.add_argument("--warmup", type=int, default=None, help="untimed steps first (default: 10 GPU, 2 CPU)")
    ap.add_argument("--batch", type=int, default=None, help="batch size (default: 64 GPU, 8 CPU)")
    ap.add_argument("--base-filters", type=int, default=None, help="network width (default: 64 GPU, 16 CPU)")
    ap.add_argument("--map-size", type=int, default=None, help="map side (default: 256 on both)")
    ap.add_argument("--compile", action="store_true", help="let the engine use torch.compile")
    ap.add_argument("--out", default=None, help="write the results to this JSON file")
    args = ap.parse_args(argv)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    gpu = device.type == "cuda"
    steps = args.steps or (100 if gpu else 10)
    warmup = args.warmup if args.warmup is not None else (10 if gpu else 2)
    batch = args.batch or (64 if gpu else 8)
    bf = args.base_filters or (64 if gpu else 16)
    size = args.map_size or 256
    for name, v in (("steps", steps), ("batch", batch)):
        if v < 1:
            raise SystemExit(f"--{name} must be >= 1, got {v}.")
    data = torch.tanh(torch.randn(max(4 * batch, 256), size, size, generator=torch.Generator().manual_seed(0)))

    G, D = cosmogan(base_filters=bf, map_size=size, seed=0)
    plain = plain_loop(G, D, data, steps, warmup, batch, device)
    G, D = cosmogan(base_filters=bf, map_size=size, seed=0)
    engine = engine_loop(G, D, data, steps, warmup, batch, device, args.compile)
    result = dict(
        device=str(torch.cuda.get_device_name(device) if gpu else "cpu"),
        threads=torch.get_num_threads(),
        steps=steps,
        warmup=warmup,
        batch=batch,
        base_filters=bf,
        map_size=size,
        compile=args.compile,
        plain_samples_per_s=round(plain, 2),
        engine_samples_per_s=round(engine, 2),
        ratio=round(engine / plain, 3),
    )
    print(f"plain eager fp32: {plain:10.1f} samples/s")
    print(f"gancosmo engine : {engine:10.1f} samples/s   (ratio {engine / plain:.2f}x)")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=2)
    return result


if __name__ == "__main__":
    main()
