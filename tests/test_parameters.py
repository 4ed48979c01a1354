"""Chapter parameters as papermill's command line sends them: booleans, None, folders, lengths, types.

``papermill nb.ipynb out.ipynb -p x VALUE`` turns ``True``/``False``/``None`` into Python values,
integers and numbers into int/float, and leaves anything else a string (``-p flag false`` is the
string ``"false"``, ``-p device none`` the string ``"none"``). Each case of issue 13 item 4 is
tested on a small configuration here, and end to end through the papermill command on chapter
03's configuration.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest
from gancosmo.config import (
    ChapterConfig,
    annotate_parameters_cell,
    generator_steps,
    option,
    require_training,
    writable_folder,
)
from gancosmo.params import ParameterError, parse_bool, parse_none

ROOT = Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class Toy(ChapterConfig):
    epochs: float = option(doc="training epochs", low=0, low_open=True)
    conditional: bool = option(doc="train the conditional model")
    prior: str = option(doc="latent prior", choices=("gaussian", "student-t"))
    max_steps: int | None = option(doc="generator steps (None: train by epochs)", low=1, nullable=True)
    device: str | None = option(
        doc="'cpu' or 'cuda' (None: cuda when available)", choices=("cpu", "cuda"), nullable=True
    )
    results_dir: str | None = option(doc="folder for results, or None", nullable=True, default=None)
    shape: tuple = option(doc="a grid shape", default=(2, 2))


Toy.PROFILES = {
    "smoke": Toy(profile="smoke", epochs=1.0, conditional=True, prior="gaussian", max_steps=None, device=None),
    "cpu": Toy(profile="cpu", epochs=30.0, conditional=False, prior="student-t", max_steps=110, device="cpu"),
}


def _refused(message: str, **kwargs) -> str:
    with pytest.raises(ParameterError) as error:
        Toy.from_parameters(**kwargs)
    text = str(error.value)
    assert message in text, text
    assert text.count(". ") == 0 and text.endswith("."), f"not one sentence: {text}"
    return text


# ---------------------------------------------------------------------------------- booleans
@pytest.mark.parametrize("value", [True, "true", "True", "TRUE", " true ", 1, "1"])
def test_booleans_accept_true_in_every_spelling(value):
    assert parse_bool(value) is True
    assert Toy.from_parameters("cpu", conditional=value).conditional is True


@pytest.mark.parametrize("value", [False, "false", "False", "FALSE", 0, "0"])
def test_booleans_accept_false_in_every_spelling(value):
    assert parse_bool(value) is False
    assert Toy.from_parameters("smoke", conditional=value).conditional is False


@pytest.mark.parametrize("value", ["yes", "t", 2, 0.5, -1])
def test_other_booleans_are_refused(value):
    _refused(
        f"parameter 'conditional' must be true/false (or None: the cpu profile's value False); got {value!r}.",
        profile="cpu",
        conditional=value,
    )


# ---------------------------------------------------------------------------------- None
@pytest.mark.parametrize("word", ["none", "None", "NONE"])
def test_none_as_a_word_is_the_fields_own_none_where_the_field_may_be_none(word):
    assert parse_none(word) is None
    cfg = Toy.from_parameters("cpu", device=word, max_steps=word, results_dir=word)
    assert (cfg.device, cfg.max_steps, cfg.results_dir) == (None, None, None)


def test_none_as_a_value_keeps_the_profiles_value():
    cfg = Toy.from_parameters("cpu", device=None, max_steps=None, epochs=None, conditional=None)
    assert cfg == Toy.PROFILES["cpu"]


@pytest.mark.parametrize("word", ["none", "None"])
def test_none_as_a_word_keeps_the_profiles_value_of_other_fields(word):
    cfg = Toy.from_parameters("cpu", epochs=word, conditional=word, prior=word)
    assert cfg == Toy.PROFILES["cpu"]


def test_a_choice_named_none_stays_a_choice():
    assert parse_none("none", choices=("none", "l2")) == "none"
    assert parse_none("none", choices=("l1", "l2")) is None
    assert parse_none(0) == 0


def test_messages_say_what_none_means_for_that_parameter():
    # device: where the profile's value is None, None means the field's own None
    _refused(
        "parameter 'device' must be one of 'cpu', 'cuda' (or None: cuda when available); got 'gpu'.",
        profile="smoke",
        device="gpu",
    )
    # where the profile holds a value, the word none is the field's None and None keeps the profile's
    _refused(
        "parameter 'device' must be one of 'cpu', 'cuda' (or none: cuda when available; None keeps the cpu "
        "profile's value 'cpu'); got 'gpu'.",
        profile="cpu",
        device="gpu",
    )
    _refused(
        "parameter 'max_steps' must be an integer with 1 <= value (or none: train by epochs; None keeps the cpu "
        "profile's value 110); got 0.",
        profile="cpu",
        max_steps=0,
    )
    _refused(
        "parameter 'epochs' must be a number with 0 < value (or None: the cpu profile's value 30.0); got -1.",
        profile="cpu",
        epochs=-1,
    )
    lines = Toy.describe_parameters().splitlines()
    assert (
        "- `device`: 'cpu' or 'cuda' (None: cuda when available) (one of 'cpu', 'cuda' (or none: cuda when "
        "available; None keeps the profile's value))" in lines
    )
    assert "- `results_dir`: folder for results, or None (a str (or None: write nothing))" in lines
    assert "- `epochs`: training epochs (a number with 0 < value (or None: the profile's value))" in lines
    assert Toy.none_means("results_dir") == "write nothing" and Toy.none_means("epochs") is None


# ---------------------------------------------------------------------------------- results_dir
def test_an_unwritable_results_dir_is_refused_before_any_work(tmp_path):
    message = (
        "parameter 'results_dir' must be a folder this process can write into or create (or None: write nothing); "
        "got '/proc/forbidden'."
    )
    assert _refused(message, profile="cpu", results_dir="/proc/forbidden") == message
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    _refused("got " + repr(str(a_file / "sub")), profile="cpu", results_dir=str(a_file / "sub"))
    _refused("got ''", profile="cpu", results_dir="")
    new = tmp_path / "new" / "deeper"
    assert Toy.from_parameters("cpu", results_dir=str(new)).results_dir == str(new)
    assert not (tmp_path / "new").exists(), "the check must not create the folder"
    assert writable_folder(tmp_path) and not writable_folder("/proc/forbidden")


def test_an_unwritable_profile_results_dir_is_refused_too():
    class Stuck(Toy):
        pass

    Stuck.PROFILES = {"cpu": dataclasses.replace(Toy.PROFILES["cpu"], results_dir="/proc/forbidden")}
    with pytest.raises(ParameterError, match="parameter 'results_dir' must be a folder this process can write"):
        Stuck.from_parameters("cpu")


# ---------------------------------------------------------------------------------- lengths
def test_epochs_zero_is_refused_as_int_and_float():
    for zero in (0, 0.0, "0"):
        _refused("parameter 'epochs' must be a number with 0 < value", profile="cpu", epochs=zero)


@pytest.mark.parametrize(
    "epochs, n_train, batch_size, critic_steps", [(1, 40, 16, 1), (2.5, 40, 16, 5), (0.3, 40, 4, 1)]
)
def test_generator_steps_count_as_the_trainer_does(tmp_path, epochs, n_train, batch_size, critic_steps):
    import torch
    from gancosmo.train import TrainConfig, Trainer
    from torch import nn

    class G(nn.Module):
        latent_dim = 2

        def __init__(self):
            super().__init__()
            self.net = nn.Linear(2, 4)

        def forward(self, z):
            return self.net(z).view(-1, 1, 2, 2)

    class D(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Linear(4, 1)

        def forward(self, x):
            return self.net(x.flatten(1)).squeeze(1)

    config = TrainConfig(
        loss="wgan-gp" if critic_steps > 1 else "bce",
        critic_steps=critic_steps,
        batch_size=batch_size,
        epochs=epochs,
        latent_dim=2,
        progress=False,
        tensorboard=False,
        out_dir=str(tmp_path),
    )
    trainer = Trainer(G(), D(), torch.zeros(n_train, 2, 2), config)
    assert generator_steps(epochs, n_train, batch_size, critic_steps) == trainer.total_steps
    assert generator_steps(1e-6, 40, 16) == 0


def test_lengths_that_train_nothing_are_refused():
    assert require_training(1.0, 40, 16, samples="training boxes") == 2
    with pytest.raises(ParameterError) as error:
        require_training(0.1, 40, 16, samples="training boxes")
    assert str(error.value) == (
        "parameter 'epochs' (0.1) gives 0 generator steps over 40 training boxes in batches of 16; accepted are "
        "at least 0.5 epochs (one step)."
    )
    assert require_training(0.5, 40, 16) == 1  # the printed minimum is enough
    with pytest.raises(ParameterError) as error:
        require_training(3.0, 40, 64, samples="training boxes")
    assert str(error.value) == (
        "parameter 'batch_size' (64) exceeds the 40 training boxes, so not one full batch exists and nothing "
        "would train; accepted is at most 40."
    )
    with pytest.raises(ParameterError, match=r"accepted are at least 0.834 epochs"):
        require_training(0.8, 37, 6, critic_steps=5)  # 6 batches an epoch, 5 per step: 5/6 epochs
    assert require_training(0.834, 37, 6, critic_steps=5) == 1


# ---------------------------------------------------------------------------------- papermill types
def test_annotated_parameters_cell_shows_each_type_in_papermill(tmp_path):
    cell = (
        'profile = "auto"  # one of: auto, smoke, cpu\n'
        "epochs = None  # training epochs (None: the profile's)\n"
        "conditional = None  # train the conditional model\n"
        "# a comment = stays\n"
        "max_steps = None  # generator steps\n"
        "device = None\n"
        "shape = None  # a grid\n"
        "unrelated = 3\n"
    )
    annotated = annotate_parameters_cell(cell, Toy)
    assert annotated.splitlines()[1] == "epochs: float = None  # training epochs (None: the profile's)"
    assert "# a comment = stays\n" in annotated and "unrelated = 3\n" in annotated
    assert annotate_parameters_cell(annotated, Toy) == annotated, "annotating twice changes nothing"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(name="python3", display_name="Python 3", language="python")
    nb.cells = [nbformat.v4.new_code_cell(annotated, metadata={"tags": ["parameters"]})]
    nbformat.write(nb, tmp_path / "nb.ipynb")
    inferred = papermill.inspect_notebook(str(tmp_path / "nb.ipynb"))
    types = {name: p["inferred_type_name"] for name, p in inferred.items()}
    assert types == dict(
        profile="str",
        epochs="float",
        conditional="bool",
        max_steps="int",
        device="str",
        shape="list",
        unrelated="None",  # papermill's "Unknown type": not a parameter of Toy
    )
    exec(compile(annotated, "cell", "exec"), {})  # still valid Python


def _chapter_configs() -> dict:
    from gancosmo.evaluation.p1 import P1Config
    from gancosmo.evaluation.p2 import P2Config
    from gancosmo.evaluation.p3 import P3Config
    from gancosmo.evaluation.p4 import P4Config
    from gancosmo.evaluation.p5 import P5Config
    from gancosmo.sims.validation import SimulationsConfig
    from gancosmo.stats.chapter import StatisticsConfig

    return {
        c.__name__: c for c in (P1Config, P2Config, P3Config, P4Config, P5Config, SimulationsConfig, StatisticsConfig)
    }


@pytest.mark.parametrize("source", sorted((ROOT / "notebooks").glob("*.py")), ids=lambda p: p.stem)
def test_every_chapter_parameter_has_a_type_to_show(source, tmp_path):
    """Each name of each chapter's parameters cell is a field of its configuration, so it gets a type."""
    import jupytext

    nb = jupytext.read(source)
    index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    configs = _chapter_configs()
    name = next(n for n in configs if f"{n}.from_parameters(" in nb.cells[index + 1].source)
    nb.cells[index].source = annotate_parameters_cell(nb.cells[index].source, configs[name])
    nbformat.write(nb, tmp_path / source.with_suffix(".ipynb").name)
    inferred = papermill.inspect_notebook(str(tmp_path / source.with_suffix(".ipynb").name))
    untyped = sorted(n for n, p in inferred.items() if p["inferred_type_name"] == "None")
    assert not untyped, f"{source.name}: parameters {untyped} are not fields of {name}"
    assert {n: p["inferred_type_name"] for n, p in inferred.items()} == {
        n: configs[name].papermill_types()[n] for n in inferred
    }


# ---------------------------------------------------------------------------------- papermill end to end
_VALIDATE = """
import json
from gancosmo.evaluation.p3 import P3Config
cfg = P3Config.from_parameters(profile=profile, epochs=epochs, conditional=conditional, compare_priors=compare_priors,
                               device=device, results_dir=results_dir)
print(json.dumps({k: getattr(cfg, k) for k in ("epochs", "conditional", "compare_priors", "device", "results_dir")}))
"""


def _papermill(tmp_path, *args) -> tuple[subprocess.CompletedProcess, nbformat.NotebookNode]:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(name="python3", display_name="Python 3", language="python")
    nb.cells = [
        nbformat.v4.new_code_cell(
            'profile = "smoke"\nepochs = None\nconditional = None\ncompare_priors = None\ndevice = None\n'
            "results_dir = None",
            metadata={"tags": ["parameters"]},
        ),
        nbformat.v4.new_code_cell(_VALIDATE),
    ]
    nbformat.write(nb, tmp_path / "in.ipynb")
    papermill_cli = Path(sys.executable).with_name("papermill")
    result = subprocess.run(
        [str(papermill_cli), str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb"), "--cwd", str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result, nbformat.read(tmp_path / "out.ipynb", as_version=4)


def test_papermill_command_line_values_reach_chapter_03_as_meant(tmp_path):
    result, out = _papermill(
        tmp_path,
        *("-p", "conditional", "false", "-p", "compare_priors", "1", "-p", "device", "none"),
        *("-p", "results_dir", "none", "-p", "epochs", "2"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    printed = json.loads(out.cells[-1].outputs[0]["text"])
    assert printed == dict(epochs=2.0, conditional=False, compare_priors=True, device=None, results_dir=None)


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("-p", "epochs", "0"),
            "parameter 'epochs' must be a number with 0 < value (or None: the smoke profile's value",
        ),
        (
            ("-p", "results_dir", "/proc/forbidden"),
            "parameter 'results_dir' must be a folder this process can write into or create (or None: write "
            "nothing); got '/proc/forbidden'.",
        ),
    ],
    ids=["epochs-0", "results_dir-forbidden"],
)
def test_papermill_command_line_refuses_in_the_validation_cell(tmp_path, args, message):
    result, out = _papermill(tmp_path, *args)
    assert result.returncode != 0
    error = next(o for o in out.cells[-1].outputs if o["output_type"] == "error")
    assert error["ename"] == "ParameterError" and message in error["evalue"], error["evalue"]
