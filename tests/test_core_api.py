"""The chapter core: typed configs, the emulator interface, transforms, Trainer-owned model selection."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from gancosmo.config import ChapterConfig, option, writable_folder
from gancosmo.data.intensity import ConstantScale, DensityScaling, Identity, check_transform
from gancosmo.evaluation.sampling import LognormalNull, TorchEmulator, generation_speed
from gancosmo.params import ParameterError
from gancosmo.train import TrainConfig, Trainer
from gancosmo.train.selection import Selector
from torch import nn


@dataclasses.dataclass(frozen=True)
class ToyConfig(ChapterConfig):
    epochs: float = option(doc="training epochs", low=0, low_open=True)
    width: int = option(doc="base width", low=1)
    conditional: bool = option(doc="train the conditional model")
    prior: str = option(doc="latent prior", choices=("gaussian", "student-t"))
    results_dir: str | None = option(
        doc="folder for results", nullable=True, check=writable_folder, describe="a writable folder", default=None
    )

    def check(self):
        if self.conditional and self.width < 2:
            raise ParameterError(f"parameter 'width' must be >= 2 for the conditional model, got {self.width}.")


ToyConfig.PROFILES = {
    "smoke": ToyConfig(profile="smoke", epochs=1.0, width=2, conditional=True, prior="gaussian"),
    "cpu": ToyConfig(profile="cpu", epochs=30.0, width=8, conditional=False, prior="student-t"),
}


def test_config_overrides_and_profile_values():
    cfg = ToyConfig.from_parameters("smoke", epochs=3, conditional="false", width=None)
    assert cfg == dataclasses.replace(ToyConfig.PROFILES["smoke"], epochs=3.0, conditional=False)
    assert isinstance(cfg.epochs, float) and cfg.profile == "smoke"
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.width = 3
    assert "`width`: base width" in ToyConfig.describe_parameters()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(profile="huge"), "parameter 'profile' must be one of 'auto', 'smoke', 'cpu'"),
        (
            dict(profile="cpu", epochs=0),
            "parameter 'epochs' must be a number with 0 < value (or None: the cpu profile's value 30.0); got 0.",
        ),
        (dict(profile="cpu", width=2.5), "parameter 'width' must be an integer"),
        (
            dict(profile="cpu", widht=2),
            "unknown parameter 'widht'; this chapter accepts: profile, conditional, epochs, prior",
        ),
        (dict(profile="cpu", conditional="yes"), "parameter 'conditional' must be true/false"),
        (dict(profile="cpu", prior="cauchy"), "parameter 'prior' must be one of 'gaussian', 'student-t'"),
        (
            dict(profile="cpu", results_dir="/proc/forbidden"),
            "parameter 'results_dir' must be a folder this process can write into or create (or None: write nothing)",
        ),
        (dict(profile="cpu", conditional=2), "parameter 'conditional' must be true/false"),
        (dict(profile="cpu", conditional=True, width=1), "must be >= 2 for the conditional model"),
    ],
)
def test_config_refuses_bad_parameters_in_one_sentence(kwargs, message):
    with pytest.raises(ParameterError) as error:
        ToyConfig.from_parameters(**kwargs)
    assert message in str(error.value)
    assert str(error.value).count(". ") == 0  # one sentence


def test_transforms_round_trip_and_protocol():
    x = np.abs(np.random.default_rng(0).normal(size=(3, 4, 4))).astype(np.float32) + 0.1
    for t in (Identity(), ConstantScale(10.0), ConstantScale.standardize(x), DensityScaling(4.0)):
        y = t.forward(x)
        np.testing.assert_allclose(t.inverse(y), x, rtol=1e-5)
        assert check_transform(t) is t
    assert ConstantScale(10.0).forward(x).dtype == np.float32
    assert float(np.std(ConstantScale.standardize(x).forward(x))) == pytest.approx(1.0, rel=1e-5)
    assert DensityScaling(4.0, clip=True).inverse(np.ones(2)).max() < np.inf
    with pytest.raises(ValueError, match="factor must be a finite number > 0"):
        ConstantScale(0)
    with pytest.raises(ValueError, match="forward"):
        check_transform(lambda v: v)


class TinyG(nn.Module):
    def __init__(self, latent_dim=4, size=8, cond_dim=0):
        super().__init__()
        self.latent_dim, self.size, self.cond_dim = latent_dim, size, cond_dim
        self.net = nn.Linear(latent_dim + cond_dim, size * size)

    def forward(self, z, y=None):
        h = z if y is None else torch.cat([z, y], 1)
        return torch.tanh(self.net(h)).view(-1, 1, self.size, self.size)


class TinyD(nn.Module):
    def __init__(self, size=8):
        super().__init__()
        self.net = nn.Linear(size * size, 1)

    def forward(self, x):
        return self.net(x.flatten(1)).squeeze(1)


def test_torch_emulator_returns_physical_units_reproducibly():
    torch.manual_seed(0)
    G = TinyG()
    emu = TorchEmulator(G, ConstantScale(10.0), batch_size=3)
    a, b = emu.sample(7, seed=1), emu.sample(7, seed=1)
    assert a.shape == (7, 8, 8) and a.dtype == np.float32 and np.array_equal(a, b)
    np.testing.assert_allclose(a * 10, emu.sample_network(7, seed=1), rtol=1e-6)
    assert not np.array_equal(a, emu.sample(7, seed=2))
    with pytest.raises(ValueError, match="unconditional"):
        emu.sample(2, labels=0.5)
    cond = TorchEmulator(TinyG(cond_dim=2), cond_dim=2)
    assert cond.sample(5, labels=(0.3, 0.8)).shape == (5, 8, 8)
    assert cond.sample(5, labels=np.tile([0.3, 0.8], (5, 1))).shape == (5, 8, 8)
    with pytest.raises(ValueError, match="conditional on 2"):
        cond.sample(5)
    with pytest.raises(ValueError, match="accepted are 2 value"):
        cond.sample(5, labels=(1.0, 2.0, 3.0))
    speed = generation_speed(emu, 16)
    assert speed["n"] == 16 and speed["per_s"] > 0 and speed["device"] == "cpu"


def test_lognormal_null_matches_the_training_set_variance():
    from gancosmo.stats.fields import lognormal_maps, power_law_cl

    real = lognormal_maps(32, 32, 1.0, power_law_cl(1e-9, -1.0), shift=0.02, seed=0)
    null = LognormalNull(real, 1.0).sample(32, seed=1)
    assert null.shape == real.shape and null.dtype == np.float32
    assert np.var(null) == pytest.approx(np.var(real), rel=0.15)
    with pytest.raises(ValueError, match="accepted labels are None"):
        LognormalNull(real, 1.0).sample(2, labels=1.0)


class ScriptedSelector(Selector):
    """Values 5, 3, 4, 1, 2, 6, ... by call: the best is the 4th evaluation."""

    VALUES = (5.0, 3.0, 4.0, 1.0, 2.0, 6.0, 7.0, 8.0)

    def distance(self, G):
        return self.VALUES[len(self.history)]


def _trainer(out):
    torch.manual_seed(0)
    data = torch.tanh(torch.randn(16, 8, 8, generator=torch.Generator().manual_seed(0)))
    cfg = TrainConfig(
        loss="bce",
        label_flip=0.0,
        batch_size=4,
        max_steps=8,
        latent_dim=4,
        progress=False,
        log_every=2,
        select_every=1,
        out_dir=str(out),
        ckpt_every=0,
    )
    return Trainer(TinyG(), TinyD(), data, cfg, statistic=ScriptedSelector())


def test_trainer_owns_the_best_generator_through_stop_and_resume(tmp_path):
    straight = _trainer(tmp_path / "a")
    straight.fit()
    assert straight.best_step == 4 and straight.best_value == 1.0
    final = {k: v.clone() for k, v in straight.G_raw.state_dict().items()}
    assert straight.restore_best()
    assert not all(torch.equal(final[k], v) for k, v in straight.G_raw.state_dict().items())
    first = _trainer(tmp_path / "b")
    first.fit(stop_at=5)
    second = _trainer(tmp_path / "b")
    second.statistic.history = list(first.statistic.history)
    second.fit(resume=True)
    assert second.best_step == 4
    assert all(torch.equal(second.best_generator[k], v) for k, v in straight.best_generator.items())


def test_atomic_writes_have_the_usual_permissions(tmp_path):
    import os
    import stat

    from gancosmo.io import atomic_write_text

    path = atomic_write_text("x", tmp_path / "a.txt")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_progress_bars_are_plain_text_outside_a_live_front_end():
    import io

    from gancosmo.progress import live_widget_frontend, progress_bar
    from tqdm.std import tqdm as text_tqdm

    assert not live_widget_frontend()  # pytest: no kernel
    out = io.StringIO()
    with progress_bar(5, "steps", file=out, mininterval=0) as bar:
        for _ in range(5):
            bar.update(1)
    assert type(bar) is text_tqdm
    assert out.getvalue().split("\r")[-1].startswith("steps: 100%") and "5/5" in out.getvalue()
    assert progress_bar(3, "off", disable=True).disable


def test_progress_bars_of_an_executed_notebook_end_at_their_final_state(tmp_path):
    """Run by papermill (as the book's build and a re-runner do), the saved notebook shows 100%, not a widget at 0%."""
    import re

    import nbformat
    import papermill

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(name="python3", display_name="Python 3", language="python")
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import time\n"
            "from gancosmo.progress import live_widget_frontend, progress_bar\n"
            "print(live_widget_frontend())\n"
            "with progress_bar(30, 'demo', mininterval=0) as bar:\n"
            "    for _ in range(30):\n"
            "        time.sleep(0.01)\n"
            "        bar.update(1)\n"
        )
    ]
    nbformat.write(nb, tmp_path / "in.ipynb")
    out = papermill.execute_notebook(
        str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb"), kernel_name="python3", progress_bar=False
    )
    outputs = out.cells[0].outputs
    assert all(o["output_type"] == "stream" for o in outputs), "no widget may be displayed"
    stdout = "".join(o["text"] for o in outputs if o["name"] == "stdout")
    stderr = "".join(o["text"] for o in outputs if o["name"] == "stderr")
    assert stdout.strip() == "False"
    final = re.sub(r".*\r(?=[^\n])", "", stderr).strip()  # what a notebook viewer shows: the line after the last \r
    assert final.startswith("demo: 100%") and "30/30" in final, final
