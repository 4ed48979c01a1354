"""DDP: two CPU processes on gloo, launched by torchrun, keep identical replicas."""

import subprocess
import sys
import textwrap

import torch

WORKER = textwrap.dedent("""
    import sys, torch
    from gancosmo.models.cosmogan import cosmogan
    from gancosmo.train import TrainConfig, Trainer
    from gancosmo.train.distributed import cleanup

    out, loss, run = sys.argv[1], sys.argv[2], sys.argv[3]
    stop_at = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] != "-" else None
    resume = len(sys.argv) > 5 and sys.argv[5] == "resume"
    data = torch.tanh(torch.randn(32, 32, 32, generator=torch.Generator().manual_seed(0)))
    rank = int(__import__("os").environ["RANK"])
    G, D = cosmogan(base_filters=4, map_size=32, latent_dim=8, seed=rank)  # replicas start different
    kw = dict(loss="bce", label_flip=0.3) if loss == "bce" else dict(loss="wgan-gp", critic_steps=2, overlap_weight=1.0)
    cfg = TrainConfig(batch_size=4, max_steps=4, latent_dim=8, progress=False, log_every=2, device="cpu",
                      out_dir=f"{out}/{run}", tensorboard=False, **kw)
    t = Trainer(G, D, data, cfg)
    assert t.dist.world_size == 2
    result = t.fit(resume=resume, stop_at=stop_at)
    state = dict(g=t.G_raw.state_dict(), d=t.D_raw.state_dict(), history=result["history"])
    torch.save(state, f"{out}/{run}-rank{rank}.pt")
    cleanup()
""")


def _run(tmp_path, loss, run="run", stop_at=None, resume=False):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        str(script),
        str(tmp_path),
        loss,
        run,
        "-" if stop_at is None else str(stop_at),
        "resume" if resume else "fresh",
    ]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=120, env={**__import__("os").environ, "OMP_NUM_THREADS": "1"}
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    r0, r1 = (torch.load(tmp_path / f"{run}-rank{r}.pt", weights_only=False) for r in (0, 1))
    return r0, r1


def _params(state):
    return {k: v for k, v in state.items() if "running" not in k and "num_batches" not in k}


def test_two_processes_keep_identical_replicas(tmp_path):
    r0, r1 = _run(tmp_path, "bce")
    for net in ("g", "d"):
        p0, p1 = _params(r0[net]), _params(r1[net])
        assert all(torch.equal(p0[k], p1[k]) for k in p0), net
    # the replicas trained (from rank 0's initial weights) and logged the mean loss
    init, _ = __import__("gancosmo.models.cosmogan", fromlist=["cosmogan"]).cosmogan(
        base_filters=4, map_size=32, latent_dim=8, seed=0
    )
    assert not torch.equal(init.dense.weight, r0["g"]["dense.weight"])
    assert r0["history"][-1]["loss/d"] == r1["history"][-1]["loss/d"]
    assert (tmp_path / "run" / "checkpoints" / "step-00000004.pt").exists()
    assert torch.load(tmp_path / "run" / "checkpoints" / "step-00000004.pt", weights_only=False)["world_size"] == 2


def test_two_processes_wgan_gp(tmp_path):
    # the gradient penalty's double backward goes through DDP
    r0, r1 = _run(tmp_path, "wgan-gp")
    for net in ("g", "d"):
        p0, p1 = _params(r0[net]), _params(r1[net])
        assert all(torch.equal(p0[k], p1[k]) for k in p0), net


def test_two_processes_stop_and_resume_exactly(tmp_path):
    straight, _ = _run(tmp_path, "bce", run="straight")
    _run(tmp_path, "bce", run="split", stop_at=2)
    r0, r1 = _run(tmp_path, "bce", run="split", resume=True)
    for net in ("g", "d"):
        assert all(torch.equal(straight[net][k], r0[net][k]) for k in straight[net]), net
        assert all(torch.equal(r0[net][k], r1[net][k]) for k in _params(r0[net])), net
