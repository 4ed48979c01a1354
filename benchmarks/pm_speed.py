"""Particle-mesh and lensing speed: time per step and per simulation, maps per second.

Prints, for each size, the time of a full PM run (2LPT + steps + one output) and, measured
in the same run on the same device, the time of the step's naive primitives (one CIC paint,
one real FFT and three inverse FFTs, one three-component CIC readout, on the particle-grid
mesh): their ratio says how much of a step costs beyond that naive mesh work. On the GPU it also prints the
ratio to the target of a 256^3, 30-step run in under 10 s on one H100.

    python benchmarks/pm_speed.py                       # CPU: 64^3 and 128^3
    python benchmarks/pm_speed.py --device cuda --sizes 128 256 512 --out results/simulations/pm_speed_gpu.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch
from gancosmo.cosmology import Cosmology
from gancosmo.sims import convergence_maps
from gancosmo.sims.mesh import cic_paint, cic_readout
from gancosmo.sims.validation import time_pm

TARGET_256_30_STEPS_S = 10.0


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def primitives(n: int, device: str, repeats: int = 3) -> dict:
    """Best-of-repeats seconds of one paint, one rfftn + three irfftn, one 3-field readout at n^3."""
    g = torch.Generator(device="cpu").manual_seed(0)
    x = (torch.rand(n**3, 3, generator=g) * n).to(device)
    best = dict(paint=float("inf"), fft=float("inf"), readout=float("inf"))
    for _ in range(repeats):
        _sync(device)
        t = time.perf_counter()
        rho = cic_paint(x, n)
        _sync(device)
        best["paint"] = min(best["paint"], time.perf_counter() - t)
        t = time.perf_counter()
        rho_k = torch.fft.rfftn(rho)
        grids = torch.stack([torch.fft.irfftn(rho_k, s=(n, n, n)) for _ in range(3)])
        _sync(device)
        best["fft"] = min(best["fft"], time.perf_counter() - t)
        t = time.perf_counter()
        cic_readout(grids, x)
        _sync(device)
        best["readout"] = min(best["readout"], time.perf_counter() - t)
    best["total"] = best["paint"] + best["fft"] + best["readout"]
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help="particles per side")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument(
        "--force-factor", type=int, default=1, choices=(1, 2, 3), help="force mesh cells per particle per side"
    )
    parser.add_argument(
        "--maps", type=int, default=None, help="convergence maps to time (default 16 on CPU, 1000 on GPU)"
    )
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON")
    args = parser.parse_args()
    gpu = args.device.startswith("cuda")
    sizes = args.sizes or ([128, 256, 512] if gpu else [64, 128])
    cosmo = Cosmology(0.3, 0.8)
    if gpu:  # warm up kernels and the CUDA context
        time_pm(cosmo, 32, 64.0, n_steps=2, device=args.device)
    name = torch.cuda.get_device_name() if gpu else platform.processor() or platform.machine()
    print(
        f"device: {args.device} ({name}), torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
        f"force_factor {args.force_factor}"
    )
    rows = []
    print(f"{'particles':>10} {'steps':>6} {'s/sim':>9} {'ms/step':>9} {'naive ms':>9} {'step/naive':>10}")
    for n in sizes:
        run = time_pm(cosmo, n, 2.0 * n, n_steps=args.steps, device=args.device, force_factor=args.force_factor)
        prim = primitives(n, args.device)
        row = dict(
            run,
            primitives_ms={k: v * 1e3 for k, v in prim.items()},
            step_over_primitives=run["seconds_per_step"] / prim["total"],
        )
        rows.append(row)
        print(
            f"{n:>8}^3 {args.steps:>6} {run['seconds_per_sim']:>9.2f} {run['seconds_per_step'] * 1e3:>9.1f} "
            f"{prim['total'] * 1e3:>9.1f} {row['step_over_primitives']:>10.2f}"
        )
        if gpu and n == 256 and args.steps == 30:
            print(
                f"   target: 256^3 x 30 steps in {TARGET_256_30_STEPS_S:g} s -> target / measured = "
                f"{TARGET_256_30_STEPS_S / run['seconds_per_sim']:.1f}"
            )
    n_maps = args.maps or (1000 if gpu else 16)
    n_lens = 128 if gpu else 64
    _sync(args.device)
    t = time.perf_counter()
    convergence_maps(
        cosmo, n_maps, 128, 5.0, z_source=1.0, device=args.device, n_particles=n_lens, box_size=256.0, n_steps=20
    )
    _sync(args.device)
    seconds = time.perf_counter() - t
    print(
        f"convergence maps: {n_maps} maps of 128^2 (5 deg, z_s = 1, one PM {n_lens}^3 run incl.) in {seconds:.2f} s = "
        f"{n_maps / seconds:.1f} maps/s"
    )
    result = dict(
        device=args.device,
        device_name=name,
        force_factor=args.force_factor,
        torch=torch.__version__,
        pm=rows,
        maps=n_maps,
        maps_seconds=seconds,
        maps_per_second=n_maps / seconds,
        lensing_particles=n_lens,
        measured=time.strftime("%Y-%m-%d"),
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
