"""One typed, frozen configuration per chapter, with one profile table.

A chapter declares a frozen dataclass deriving from :class:`ChapterConfig` whose fields hold
every size and setting of the chapter (data, network, training, evaluation), each declared
with :func:`option` (what it accepts, in words for the reader), and a class attribute
``PROFILES`` mapping profile names to complete instances. Its papermill parameters cell lists
``profile`` plus any field names (``None`` = the profile's value), and one call

>>> cfg = P1Config.from_parameters(profile="cpu", epochs=10.0)   # doctest: +SKIP

checks every name and value (one sentence naming the parameter and what it accepts, before any
work starts) and returns the profile's instance with the overrides applied. Cross-field rules
go in the subclass's ``check()``.

What papermill's command line sends is read as a person means it: ``-p conditional false`` (the
string ``"false"``), ``-p conditional 0`` and ``False`` are all ``False``; ``-p device none`` (the
string) is the field's own ``None`` where ``None`` is a value of the field (``nullable``, e.g.
``device``: cuda when available), and the profile's value elsewhere. A ``results_dir`` is tried for
writing before any work. :func:`require_training` refuses lengths that train nothing, and
:func:`annotate_parameters_cell` writes the types ``papermill --help-notebook`` shows.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import typing
from pathlib import Path
from typing import Any, ClassVar

from .params import Param, ParameterError, parse_bool, parse_none

__all__ = [
    "option",
    "ChapterConfig",
    "writable_folder",
    "parse_bool",
    "parse_none",
    "generator_steps",
    "require_training",
    "annotate_parameters_cell",
]


def option(
    *,
    doc: str,
    low=None,
    high=None,
    low_open: bool = False,
    high_open: bool = False,
    choices=None,
    check=None,
    describe: str | None = None,
    nullable: bool = False,
    none: str | None = None,
    default=dataclasses.MISSING,
):
    """A config field: what it accepts (bounds, choices, a check) and ``doc``, a short description.

    ``nullable`` means ``None`` is a legitimate value of the field itself (e.g. ``results_dir``,
    ``device``), not only "keep the profile's value"; ``none`` says what that ``None`` means, in
    words for the messages (default: :attr:`ChapterConfig.NONE_MEANS`, else the ``(None: ...)``
    phrase of ``doc``).
    """
    meta = dict(
        doc=doc,
        low=low,
        high=high,
        low_open=low_open,
        high_open=high_open,
        choices=choices,
        check=check,
        describe=describe,
        nullable=nullable,
        none=none,
    )
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def writable_folder(path) -> bool:
    """True when ``path`` is, or could be created as, a folder this process may write into.

    Tried for real (permission bits say nothing for root or for /proc): a temporary folder is
    made and removed in the nearest existing parent; nothing else is created.
    """
    import tempfile

    p = Path(path).expanduser()
    while not p.exists():
        if p.parent == p:
            return False
        p = p.parent
    if not p.is_dir() or not os.access(p, os.W_OK | os.X_OK):
        return False
    try:
        with tempfile.TemporaryDirectory(dir=p, prefix=".gancosmo-write-check-"):
            return True
    except OSError:
        return False


def generator_steps(epochs: float, n_train: int, batch_size: int, critic_steps: int = 1) -> int:
    """Generator steps of ``epochs`` passes over ``n_train`` samples, counted as :class:`gancosmo.train.Trainer` does.

    An epoch is ``n_train // batch_size`` full batches (an incomplete batch is dropped); a generator
    step consumes ``critic_steps`` of them.
    """
    return int(epochs * (int(n_train) // int(batch_size))) // int(critic_steps)


def require_training(
    epochs: float,
    n_train: int,
    batch_size: int,
    critic_steps: int = 1,
    samples: str = "training samples",
    epochs_name: str = "epochs",
) -> int:
    """The generator steps a chapter's training runs; :class:`ParameterError` when that is none.

    For a configuration's ``check()``: a run that trains nothing would score the untrained network
    as if it were the emulator.

    Parameters
    ----------
    epochs : float
        Passes over the training set (the value of the parameter ``epochs_name``).
    n_train : int
        Training samples (maps, volumes) the run sees; ``samples`` names them in the message.
    batch_size, critic_steps : int
        As the trainer uses them.

    Returns
    -------
    int
        Generator steps (at least 1).
    """
    batches = int(n_train) // int(batch_size)
    if batches < 1:
        raise ParameterError(
            f"parameter 'batch_size' ({batch_size}) exceeds the {n_train} {samples}, so not one full batch "
            f"exists and nothing would train; accepted is at most {n_train}."
        )
    steps = generator_steps(epochs, n_train, batch_size, critic_steps)
    if steps < 1:
        least = critic_steps / batches
        raise ParameterError(
            f"parameter {epochs_name!r} ({epochs!r}) gives 0 generator steps over {n_train} {samples} in "
            f"batches of {batch_size}; accepted are at least {_round_up(least)} epochs (one step)."
        )
    return steps


def _round_up(x: float, digits: int = 3) -> float:
    """``x`` rounded up to ``digits`` significant digits (a printed minimum that is itself enough)."""
    scale = 10.0 ** (digits - 1 - math.floor(math.log10(x)))
    return math.ceil(x * scale - 1e-9) / scale


def _kinds(hint) -> tuple:
    """Python types a field accepts, from its annotation (``X | None`` drops None)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        out = ()
        for a in typing.get_args(hint):
            if a is not type(None):
                out += _kinds(a)
        return out
    if origin is tuple:
        return (tuple,)
    return (hint,)


#: ``(None: ...)`` or ``; None: ...`` in a field's ``doc``: what None means for it.
_DOC_NONE = re.compile(r"(?:^|[(;,]\s*)None: ([^;)]+)")


def _type_name(kinds: tuple) -> str:
    """The type papermill shows for a parameter (``list`` for tuples: papermill's YAML gives lists)."""
    names = ["list" if k is tuple else k.__name__ for k in kinds]
    return " or ".join(dict.fromkeys(names))


@dataclasses.dataclass(frozen=True)
class ChapterConfig:
    """Base class of the chapters' configurations; see the module docstring."""

    PROFILES: ClassVar[dict] = {}
    #: What ``None`` means for nullable fields that every chapter shares (a field's ``option(none=...)`` wins).
    NONE_MEANS: ClassVar[dict] = {"device": "cuda when available", "results_dir": "write nothing"}
    #: Fields naming a folder the chapter writes into: tried for writing before any work.
    WRITABLE_FOLDERS: ClassVar[tuple] = ("results_dir",)

    profile: str = dataclasses.field(metadata=dict(doc="the profile of the table this configuration starts from"))

    def __post_init__(self):
        self.check()

    def check(self) -> None:
        """Cross-field rules; raise :class:`ParameterError` with one sentence."""

    def check_inputs(self) -> None:
        """Rules on files the run will read (a committed emulator), checked by :meth:`from_parameters`
        only, so that the profile tables can be built where those files are absent."""

    # ------------------------------------------------------------------ parameters
    @classmethod
    def _fields(cls) -> dict[str, dataclasses.Field]:
        return {f.name: f for f in dataclasses.fields(cls) if f.name != "profile"}

    @classmethod
    def is_nullable(cls, name: str) -> bool:
        """True when ``None`` is a value of the field itself (not only "the profile's value")."""
        return bool(cls._fields()[name].metadata.get("nullable"))

    @classmethod
    def none_means(cls, name: str) -> str | None:
        """What ``None`` means for the nullable field ``name``, in words (None for the other fields).

        From the field's ``option(none=...)``, else :attr:`NONE_MEANS`, else the ``(None: ...)``
        phrase of its ``doc``, else ``"not set"``.
        """
        meta = cls._fields()[name].metadata
        if not meta.get("nullable"):
            return None
        if meta.get("none"):
            return meta["none"]
        if name in cls.NONE_MEANS:
            return cls.NONE_MEANS[name]
        found = _DOC_NONE.search(meta.get("doc", ""))
        return found.group(1).strip() if found else "not set"

    @classmethod
    def parameter_spec(cls) -> dict[str, Param]:
        """What each parameter of the chapter accepts (``None``: the profile's value, or the field's own None)."""
        hints = typing.get_type_hints(cls)
        spec = {}
        for name, f in cls._fields().items():
            m = dict(f.metadata)
            kinds = _kinds(hints[name])
            spec[name] = Param(
                kinds if len(kinds) > 1 else kinds[0],
                choices=m.get("choices"),
                low=m.get("low"),
                high=m.get("high"),
                low_open=m.get("low_open", False),
                high_open=m.get("high_open", False),
                allow_none=True,
                check=m.get("check"),
                describe=m.get("describe"),
                none_means=cls.none_means(name),
            )
        return spec

    @classmethod
    def papermill_types(cls) -> dict[str, str]:
        """The type of each parameter as the parameters cell annotates it (``papermill --help-notebook`` shows it)."""
        hints = typing.get_type_hints(cls)
        return {"profile": "str"} | {name: _type_name(_kinds(hints[name])) for name in cls._fields()}

    @classmethod
    def profile_names(cls) -> tuple[str, ...]:
        return tuple(cls.PROFILES)

    @classmethod
    def none_clause(cls, name: str, profile: str | None = None) -> str:
        """What ``None`` means for parameter ``name``, in parentheses (with ``profile``'s value when given).

        A field that is not nullable: ``None`` is the profile's value. A nullable one: ``None`` is
        the field's own None (:meth:`none_means`) where the profile's value is None too; where it
        is not, ``none`` (the word) is the field's None and ``None`` keeps the profile's value.
        """
        if profile is None:
            held = [getattr(c, name) for c in cls.PROFILES.values()]
            keep = "the profile's value"
        else:
            held = [getattr(cls.PROFILES[profile], name)]
            keep = f"the {profile} profile's value {held[0]!r}"
        if not cls.is_nullable(name):
            return f"(or None: {keep})"
        if all(v is None for v in held):
            return f"(or None: {cls.none_means(name)})"
        return f"(or none: {cls.none_means(name)}; None keeps {keep})"

    @classmethod
    def accepted_text(cls, name: str, profile: str | None = None) -> str:
        """What parameter ``name`` accepts, ending with what ``None`` means for it (:meth:`none_clause`)."""
        return f"{cls.parameter_spec()[name].accepted_values()} {cls.none_clause(name, profile)}"

    @classmethod
    def from_parameters(cls, profile: str = "auto", **overrides):
        """The ``profile``'s configuration with ``overrides`` applied.

        ``None`` keeps the profile's value. The strings ``none``/``None`` set a nullable field to
        its own None (and keep the profile's value of any other field); booleans accept
        ``true``/``false``/``1``/``0`` as well as ``True``/``False``. A folder of
        :attr:`WRITABLE_FOLDERS` is tried for writing.

        Raises
        ------
        ParameterError
            For an unknown parameter name, a wrong type or value, an unwritable folder or an
            unknown profile, with one sentence naming it and what is accepted.
        """
        from .sims.suites import resolve_profile

        choices = ("auto",) + cls.profile_names()
        if profile not in choices:
            raise ParameterError(
                f"parameter 'profile' must be one of {', '.join(repr(c) for c in choices)}; got {profile!r}."
            )
        resolved = resolve_profile(profile) if profile == "auto" else profile
        if resolved not in cls.PROFILES:
            raise ParameterError(
                f"profile {profile!r} resolves to {resolved!r}, which this chapter has no table for; "
                f"accepted are {', '.join(cls.profile_names())}."
            )
        spec = cls.parameter_spec()
        for name in overrides:
            if name not in spec:
                raise ParameterError(
                    f"unknown parameter {name!r}; this chapter accepts: {', '.join(['profile'] + sorted(spec))}."
                )
        hints = typing.get_type_hints(cls)
        base = cls.PROFILES[resolved]
        changes = {}
        for name, given in overrides.items():
            if given is None:
                continue
            value = parse_none(given, spec[name].choices)
            if value is None:
                if cls.is_nullable(name):
                    changes[name] = None
                continue
            if bool in _kinds(hints[name]):
                value = parse_bool(value)
            if isinstance(value, list):
                value = tuple(value)
            if name in cls.WRITABLE_FOLDERS:
                cls._check_writable(name, value, resolved)
            if not spec[name].ok(value):
                raise ParameterError(f"parameter {name!r} must be {cls.accepted_text(name, resolved)}; got {value!r}.")
            if float in _kinds(hints[name]) and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            changes[name] = value
        for name in cls.WRITABLE_FOLDERS:
            if name in spec and name not in changes and getattr(base, name) is not None:
                cls._check_writable(name, getattr(base, name), resolved)
        cfg = dataclasses.replace(base, **changes)
        cfg.check_inputs()
        return cfg

    @classmethod
    def _check_writable(cls, name: str, value, profile: str) -> None:
        if isinstance(value, (str, os.PathLike)) and str(value).strip() and writable_folder(value):
            return
        raise ParameterError(
            f"parameter {name!r} must be a folder this process can write into or create "
            f"{cls.none_clause(name, profile)}; got {value!r}."
        )

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready (tuples become lists)."""
        return {
            f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in dataclasses.fields(self)
        }

    @classmethod
    def describe_parameters(cls) -> str:
        """One line per parameter: name, what it accepts, description (for the chapter's text)."""
        return "\n".join(
            f"- `{name}`: {f.metadata['doc']} ({cls.accepted_text(name)})" for name, f in cls._fields().items()
        )


def annotate_parameters_cell(source: str, config: type[ChapterConfig]) -> str:
    """``source`` (a parameters cell) with each parameter's type annotated, as ``papermill --help-notebook`` reads it.

    ``seed = None  # ...`` becomes ``seed: int = None  # ...`` (papermill shows ``seed: int (default
    None)``; without the annotation it shows ``Unknown type``). Lines already annotated, comments and
    names that are not parameters of ``config`` are left as they are.
    """
    types = config.papermill_types()
    out = []
    for line in source.splitlines(keepends=True):
        m = re.match(r"^(\w+)(\s*)=(?!=)", line)
        if m and m.group(1) in types:
            line = f"{m.group(1)}: {types[m.group(1)]} ={line[m.end() :]}"
        out.append(line)
    return "".join(out)
