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
"""

from __future__ import annotations

import dataclasses
import os
import typing
from pathlib import Path
from typing import Any, ClassVar

from .params import Param, ParameterError

__all__ = ["option", "ChapterConfig", "writable_folder", "parse_bool"]


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
    default=dataclasses.MISSING,
):
    """A config field: what it accepts (bounds, choices, a check) and ``doc``, a short description.

    ``nullable`` means ``None`` is a legitimate value of the field itself (e.g. ``results_dir``,
    ``device``), not only "keep the profile's value".
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
    )
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def parse_bool(value):
    """``True``/``False``, or the strings ``true``/``false`` (any case) papermill passes from ``-p x false``."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


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


@dataclasses.dataclass(frozen=True)
class ChapterConfig:
    """Base class of the chapters' configurations; see the module docstring."""

    PROFILES: ClassVar[dict] = {}

    profile: str = dataclasses.field(metadata=dict(doc="the profile of the table this configuration starts from"))

    def __post_init__(self):
        self.check()

    def check(self) -> None:
        """Cross-field rules; raise :class:`ParameterError` with one sentence."""

    # ------------------------------------------------------------------ parameters
    @classmethod
    def parameter_spec(cls) -> dict[str, Param]:
        """What each parameter of the chapter accepts (``None`` = the profile's value)."""
        hints = typing.get_type_hints(cls)
        spec = {}
        for f in dataclasses.fields(cls):
            if f.name == "profile":
                continue
            m = dict(f.metadata)
            kinds = _kinds(hints[f.name])
            spec[f.name] = Param(
                kinds if len(kinds) > 1 else kinds[0],
                choices=m.get("choices"),
                low=m.get("low"),
                high=m.get("high"),
                low_open=m.get("low_open", False),
                high_open=m.get("high_open", False),
                allow_none=True,
                check=m.get("check"),
                describe=m.get("describe"),
            )
        return spec

    @classmethod
    def profile_names(cls) -> tuple[str, ...]:
        return tuple(cls.PROFILES)

    @classmethod
    def from_parameters(cls, profile: str = "auto", **overrides):
        """The ``profile``'s configuration with ``overrides`` applied (``None`` values keep the profile's).

        Raises
        ------
        ParameterError
            For an unknown parameter name, a wrong type or value, or an unknown profile, with
            one sentence naming it and what is accepted.
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
        changes = {}
        for name, value in overrides.items():
            if value is None:
                continue
            if bool in _kinds(hints[name]):
                value = parse_bool(value)
            if isinstance(value, list):
                value = tuple(value)
            if not spec[name].ok(value):
                accepted = spec[name].accepted().replace(" (or None for the profile's value)", "")
                raise ParameterError(
                    f"parameter {name!r} must be {accepted} (or None: the {resolved} profile's value "
                    f"{getattr(cls.PROFILES[resolved], name)!r}); got {value!r}."
                )
            if float in _kinds(hints[name]) and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            changes[name] = value
        return dataclasses.replace(cls.PROFILES[resolved], **changes)

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready (tuples become lists)."""
        return {
            f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in dataclasses.fields(self)
        }

    @classmethod
    def describe_parameters(cls) -> str:
        """One line per parameter: name, what it accepts, description (for the chapter's text)."""
        spec = cls.parameter_spec()
        return "\n".join(
            f"- `{f.name}`: {f.metadata['doc']} ({spec[f.name].accepted()})"
            for f in dataclasses.fields(cls)
            if f.name in spec
        )
