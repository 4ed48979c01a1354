"""Device settings of a training run: what ``auto`` chooses, channels-last in 2D and 3D, the record."""

import json

import pytest
import torch
from gancosmo.models.cosmogan import cosmogan
from gancosmo.models.dcgan3d import dcgan3d
from gancosmo.train import TrainConfig, Trainer, hardware
from gancosmo.train.hardware import channels_last_input, resolve_settings, to_channels_last


def test_auto_follows_the_cpu(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setattr(hardware, "cpu_has_native_bf16", lambda: True)
    fast = resolve_settings(cpu)
    assert (fast.precision, fast.channels_last, fast.fused) == ("bf16", False, False)
    monkeypatch.setattr(hardware, "cpu_has_native_bf16", lambda: False)
    plain = resolve_settings(cpu)
    assert (plain.precision, plain.channels_last, plain.fused) == ("fp32", False, False)
    assert plain.amp_dtype is None and fast.amp_dtype is torch.bfloat16
    # explicit choices win over auto
    given = resolve_settings(cpu, precision="fp32", channels_last=True, fused=True)
    assert (given.precision, given.channels_last, given.fused) == ("fp32", True, True)
    assert "explicitly" in given.reason
    cuda = resolve_settings(torch.device("cuda"))
    assert (cuda.precision, cuda.channels_last, cuda.fused) == ("bf16", True, True)


def test_channels_last_converts_3d_networks_too():
    G, D = dcgan3d(filters=(4, 2), latent_dim=4, seed=0)
    with pytest.raises(RuntimeError, match="rank 4"):  # what the Trainer used to do on CUDA
        D.to(memory_format=torch.channels_last)
    to_channels_last(D)
    convs = [m.weight for m in D.modules() if isinstance(m, torch.nn.Conv3d)]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last_3d) for w in convs)
    x = channels_last_input(torch.randn(2, 1, 16, 16, 16))
    assert x.is_contiguous(memory_format=torch.channels_last_3d)
    G2, _ = cosmogan(base_filters=2, map_size=32, latent_dim=4, seed=0)
    to_channels_last(G2)
    w2 = [m.weight for m in G2.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert w2 and all(w.is_contiguous(memory_format=torch.channels_last) for w in w2)


def test_run_records_its_device_settings(tmp_path):
    G, D = cosmogan(base_filters=4, map_size=32, latent_dim=8, seed=0)
    data = torch.tanh(torch.randn(16, 32, 32, generator=torch.Generator().manual_seed(0)))
    cfg = TrainConfig(
        batch_size=4, max_steps=2, latent_dim=8, progress=False, tensorboard=False, out_dir=str(tmp_path), device="cpu"
    )
    out = Trainer(G, D, data, cfg).fit()
    record = json.loads((tmp_path / "config.json").read_text())
    assert record["device_settings"] == out["device_settings"]
    want = "bf16" if hardware.cpu_has_native_bf16() else "fp32"
    assert record["device_settings"]["precision"] == want
    assert record["precision"] == "auto"
