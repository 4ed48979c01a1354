"""GPU check: each chapter's ``gpu`` networks train on real ``gpu``-profile data for a bounded time.

For P1, P2 and P3 in turn: simulate a slice of the chapter's ``gpu`` suite (the recipe of the
profile, fewer samples), build the chapter's ``gpu``-profile networks, train them with the
chapter's loss and optimizer through the book's engine (bf16 autocast, channels-last, fused
optimizers on CUDA) for ``--seconds`` of wall time, and record

* throughput (samples per second over the timed steps, after the warm-up steps),
* the loss curves (every logged step), the engine's device settings and peak GPU memory,
* an early statistic: the mean |fractional difference| of the mean spectrum of generated
  samples from the real ones (C_ell for maps, P(k) for cubes) on the scored bins, and the
  same for the untrained generator, so a run shows whether training moved it.

Everything goes to ``--out`` (default ``results/gpu_check.json``). ``make gpu-check`` runs it
with the defaults, sized by arithmetic (not yet timed on a GPU) for at most 9 minutes on one
H100 or H200, data included: 100 s of training per chapter after the data.
``--profile smoke --device cpu --seconds 2`` runs the same code path on a CPU in seconds (the
test suite does).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from gancosmo.train import Trainer


def _spectrum_error(real, fake, spectrum) -> float:
    """Mean |mean(fake) / mean(real) - 1| over the bins, of ``spectrum(samples) -> (x, per-sample power)``."""
    pr, pf = spectrum(real).mean(0), spectrum(fake).mean(0)
    keep = np.isfinite(pr) & (pr > 0)
    return float(np.mean(np.abs(pf[keep] / pr[keep] - 1)))


def _timed_fit(G, D, data, config, seconds, warmup, log_every, augment=None):
    """Train with the chapter's ``config`` until ``seconds`` of wall time after ``warmup`` steps."""
    marks = {}

    class _Stop(Exception):
        pass

    def clock(trainer, step):
        if step == warmup:
            if trainer.device.type == "cuda":
                torch.cuda.synchronize()
            marks["t0"], marks["s0"] = time.perf_counter(), step
        if "t0" in marks and time.perf_counter() - marks["t0"] >= seconds:
            if trainer.device.type == "cuda":
                torch.cuda.synchronize()
            marks["t1"], marks["s1"] = time.perf_counter(), step
            raise _Stop

    cfg = dataclasses.replace(
        config, max_steps=10**7, progress=False, tensorboard=False, log_every=log_every, select_every=0, out_dir=None
    )
    trainer = Trainer(G, D, data, cfg, callbacks=[clock], augment=augment)
    try:
        trainer.fit()
    except _Stop:
        pass
    steps = marks.get("s1", trainer.step) - marks.get("s0", 0)
    dt = marks.get("t1", time.perf_counter()) - marks.get("t0", time.perf_counter())
    per_step = cfg.batch_size * cfg.critic_steps
    return trainer, dict(
        timed_steps=int(steps),
        timed_seconds=round(dt, 3),
        samples_per_s=round(steps * per_step / dt, 2) if dt > 0 else None,
        generator_steps_per_s=round(steps / dt, 3) if dt > 0 else None,
        device_settings=trainer.settings.to_dict(),
        loss_d=[(h["step"], round(h["loss/d"], 5)) for h in trainer.history],
        loss_g=[(h["step"], round(h["loss/g"], 5)) for h in trainer.history],
    )


def check_p1(profile, device, seconds, warmup, log_every, n_maps) -> dict:
    from gancosmo.evaluation.p1 import P1Config, build_networks, ell_edges, suite_geometry, tile_maps, train_config
    from gancosmo.sims import load_suite
    from gancosmo.stats import power_spectrum_2d

    cfg = P1Config.PROFILES[profile]
    t0 = time.perf_counter()
    suite = load_suite("p1", profile=profile, device=device, progress=False, n_maps=n_maps, n_sims=min(2, n_maps))
    n_pix, field = suite_geometry(profile)
    maps = tile_maps(suite["maps"], cfg.map_size)
    side = field * cfg.map_size / n_pix
    data_s = time.perf_counter() - t0
    x = cfg.transform.forward(maps).astype(np.float32)
    edges = ell_edges(cfg.map_size, side)

    def spectrum(m):
        return power_spectrum_2d(np.asarray(m, np.float64), side, edges)[1]

    G, D = build_networks(cfg)
    config = dataclasses.replace(train_config(cfg, progress=False), device=device)
    return _run(
        "p1", G, D, x, config, seconds, warmup, log_every, maps, spectrum, cfg.transform.inverse, data_s, "C_ell"
    )


def check_p2(profile, device, seconds, warmup, log_every, n_cosmologies) -> dict:
    from gancosmo.data.augment import dihedral2d
    from gancosmo.data.intensity import ConstantScale
    from gancosmo.evaluation.p2 import P2Config, ell_edges
    from gancosmo.models.conditional import conditional_gan
    from gancosmo.sims import load_suite
    from gancosmo.sims.suites import kids450_probe_cosmologies
    from gancosmo.stats import power_spectrum_2d

    cfg = P2Config.PROFILES[profile]
    t0 = time.perf_counter()
    picks = list(kids450_probe_cosmologies())[:n_cosmologies]
    suite = load_suite("p2", profile=profile, device=device, progress=False, cosmologies=picks)
    maps, params = suite["maps"], suite["params"].astype(np.float32)
    data_s = time.perf_counter() - t0
    side = suite.config["field_deg"]
    transform = ConstantScale.standardize(maps)
    x = transform.forward(maps).astype(np.float32)
    edges = ell_edges(maps.shape[-1], side)
    G, D = conditional_gan(cfg.width, conditioning=cfg.conditioning, seed=0, map_size=maps.shape[-1])
    config = dataclasses.replace(cfg.train_config(progress=False), device=device)
    first = params[0]
    mine = np.all(params == first, axis=1)

    def spectrum(m):
        return power_spectrum_2d(np.asarray(m, np.float64), side, edges)[1]

    return _run(
        "p2",
        G,
        D,
        (x, params),
        config,
        seconds,
        warmup,
        log_every,
        maps[mine],
        spectrum,
        transform.inverse,
        data_s,
        f"C_ell at (Omega_m, sigma_8) = ({first[0]:.3f}, {first[1]:.3f})",
        augment=dihedral2d,
        labels=first,
    )


def check_p3(profile, device, seconds, warmup, log_every, n_boxes) -> dict:
    from gancosmo.data.augment import octahedral3d
    from gancosmo.evaluation.p3 import P3Config, k_edges, power, scaled, train_config
    from gancosmo.evaluation.p3 import density as unscale
    from gancosmo.models.dcgan3d import dcgan3d
    from gancosmo.sims import load_suite

    cfg = P3Config.PROFILES[profile]
    t0 = time.perf_counter()
    suite = load_suite("p3", profile=profile, device=device, progress=False, n_boxes=n_boxes)
    cubes = suite["density_z0"]
    box = suite.config["box_size"] * cubes.shape[-1] / suite.config["density_grid"]
    data_s = time.perf_counter() - t0
    kappa = cfg.kappa_rho
    x = scaled(cubes, kappa)
    edges = k_edges(cubes.shape[-1], box)
    G, D = dcgan3d(cfg.filters, cfg.latent_dim, seed=0)
    if G(torch.zeros(1, cfg.latent_dim)).shape[-1] != cubes.shape[-1]:
        raise SystemExit(f"P3 {profile}: the networks make other cubes than the suite's {cubes.shape[-1]}^3.")
    config = train_config(cfg, cfg.epochs, len(x), seed=0, device=device, progress=False)

    def spectrum(c):
        return power(c, box, edges)[1]

    return _run(
        "p3",
        G,
        D,
        x,
        config,
        seconds,
        warmup,
        log_every,
        cubes,
        spectrum,
        lambda s: unscale(s, kappa),
        data_s,
        "P(k) at z = 0",
        augment=octahedral3d,
    )


def _run(
    name,
    G,
    D,
    data,
    config,
    seconds,
    warmup,
    log_every,
    real,
    spectrum,
    inverse,
    data_s,
    what,
    augment=None,
    labels=None,
):
    n_eval = min(len(real), 128)

    def generated(net):
        net.eval()
        gen = torch.Generator().manual_seed(123)
        z = torch.randn(n_eval, net.latent_dim, generator=gen).to(next(net.parameters()).device)
        with torch.no_grad():
            if labels is None:
                out = torch.cat([net(z[i : i + 16]).float() for i in range(0, n_eval, 16)])
            else:
                y = torch.as_tensor(np.tile(labels, (n_eval, 1)), device=z.device)
                out = torch.cat([net(z[i : i + 16], y[i : i + 16]).float() for i in range(0, n_eval, 16)])
        net.train()
        return inverse(out[:, 0].cpu().numpy())

    device = config.device
    before = _spectrum_error(real[:n_eval], generated(G.to(device)), spectrum)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    trainer, record = _timed_fit(G, D, data, config, seconds, warmup, log_every, augment=augment)
    after = _spectrum_error(real[:n_eval], generated(trainer.G_raw), spectrum)
    record.update(
        chapter=name,
        data_seconds=round(data_s, 2),
        n_samples=int(len(data[0]) if isinstance(data, tuple) else len(data)),
        sample_shape=list(real.shape[1:]),
        statistic=f"mean |mean {what} of {n_eval} generated / real - 1| over the bins",
        statistic_untrained=round(before, 4),
        statistic_after=round(after, 4),
        peak_gpu_memory_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2) if device == "cuda" else None,
    )
    print(
        f"{name}: data {data_s:.0f} s; {record['samples_per_s']} samples/s over {record['timed_steps']} steps; "
        f"spectrum error {before:.3f} untrained -> {after:.3f}",
        flush=True,
    )
    return record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profile", default="gpu", choices=("smoke", "cpu", "gpu"))
    ap.add_argument("--device", default=None, help="cuda (default when available) or cpu")
    ap.add_argument("--seconds", type=float, default=100.0, help="timed training per chapter, after the warm-up")
    ap.add_argument("--warmup", type=int, default=5, help="untimed generator steps first")
    ap.add_argument("--chapters", default="p1,p2,p3", help="comma-separated subset of p1, p2, p3")
    ap.add_argument("--log-every", type=int, default=10, help="generator steps between logged losses")
    ap.add_argument("--out", default="results/gpu_check.json")
    args = ap.parse_args(argv)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    chapters = [c.strip() for c in args.chapters.split(",") if c.strip()]
    unknown = sorted(set(chapters) - {"p1", "p2", "p3"})
    if unknown or not chapters:
        raise SystemExit(f"--chapters must name some of p1, p2, p3; got {args.chapters!r}.")
    if args.log_every < 1:
        raise SystemExit(f"--log-every must be >= 1, got {args.log_every}.")
    if args.seconds <= 0:
        raise SystemExit(f"--seconds must be > 0, got {args.seconds}.")
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda was asked for but no CUDA device is available.")
    small = args.profile == "smoke"
    sizes = dict(p1=64 if small else 2048, p2=2 if small else 5, p3=4)
    checks = dict(p1=check_p1, p2=check_p2, p3=check_p3)
    t0 = time.perf_counter()
    results = {
        c: checks[c](args.profile, device, args.seconds, args.warmup, args.log_every, sizes[c]) for c in chapters
    }
    out = dict(
        profile=args.profile,
        device=torch.cuda.get_device_name() if device == "cuda" else f"cpu ({platform.processor() or 'unknown'})",
        torch=torch.__version__,
        seconds_per_chapter=args.seconds,
        total_seconds=round(time.perf_counter() - t0, 1),
        chapters=results,
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(f"wrote {args.out} ({out['total_seconds']:.0f} s)")
    return out


if __name__ == "__main__":
    main()
