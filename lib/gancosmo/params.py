"""Validation of a chapter's papermill parameters: one clear sentence per mistake.

A chapter records the names defined before its ``parameters`` cell, then calls
:func:`validate` on everything defined since (its own defaults plus whatever papermill
injected), against a spec of what each parameter accepts.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Param", "validate", "collect", "ParameterError", "PROFILE_CHOICES", "parse_bool", "parse_none"]

PROFILE_CHOICES = ("auto", "smoke", "cpu", "gpu", "paper")

#: What papermill passes for a boolean: ``-p x false`` arrives as the string ``"false"``, ``-p x 1`` as ``1``.
TRUE_WORDS, FALSE_WORDS = ("true", "1"), ("false", "0")


def parse_bool(value):
    """``True``/``False`` for the booleans a command line writes, else ``value`` unchanged.

    Accepted: ``True``/``False``, the integers ``1``/``0`` and the strings ``true``/``false``/``1``/``0``
    (any case, surrounding blanks ignored). Anything else (``"yes"``, ``2``, ``0.5``) is returned as it
    came, for the validation to refuse with its message.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return value


def parse_none(value, choices=None):
    """``None`` for the strings ``none``/``None`` (any case; ``-p x none`` on papermill's command line), else ``value``.

    A field whose ``choices`` hold the word ``"none"`` keeps it as a string.
    """
    if isinstance(value, str) and value.strip().lower() == "none":
        if choices is not None and any(isinstance(c, str) and c.lower() == "none" for c in choices):
            return value
        return None
    return value


class ParameterError(ValueError):
    """A chapter parameter has a wrong name, type or value."""


@dataclass(frozen=True)
class Param:
    """What one parameter accepts.

    Parameters
    ----------
    kind : type or tuple of types
        Accepted Python types; ``float`` also accepts integers, ``int`` accepts integers only
        (``True``/``False`` only where ``bool`` is listed).
    choices : tuple, optional
        Allowed values.
    low, high : float, optional
        Inclusive bounds (``low_open``/``high_open`` make them strict).
    allow_none : bool
        ``None`` is accepted (meaning "use the profile's value", unless ``none_means`` says otherwise).
    check : callable, optional
        Extra test returning ``True`` when the value is fine; ``describe`` then says what is accepted.
    none_means : str, optional
        What ``None`` means for this parameter, in words (e.g. ``"cuda when available"``); the text of
        :meth:`accepted` then ends ``(or None: <none_means>)``.
    """

    kind: type | tuple = object
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    allow_none: bool = False
    check: Callable[[Any], bool] | None = None
    describe: str | None = None
    none_means: str | None = None

    def accepted(self) -> str:
        """What the parameter accepts, in words, including what ``None`` means when it is accepted."""
        text = self.accepted_values()
        if not self.allow_none:
            return text
        return text + (f" (or None: {self.none_means})" if self.none_means else " (or None for the profile's value)")

    def accepted_values(self) -> str:
        """What the parameter accepts besides ``None``, in words."""
        if self.describe:
            return self.describe
        if self.choices is not None:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        else:
            kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
            text = " or ".join(
                "a number"
                if k is float
                else "an integer"
                if k is int
                else "true/false"
                if k is bool
                else f"a {k.__name__}"
                for k in kinds
            )
            if self.low is not None or self.high is not None:
                lo = "" if self.low is None else f"{self.low} <{'' if self.low_open else '='} "
                hi = "" if self.high is None else f" <{'' if self.high_open else '='} {self.high}"
                text += f" with {lo}value{hi}"
        return text

    def ok(self, value) -> bool:
        if value is None:
            return self.allow_none
        kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
        if bool not in kinds and isinstance(value, bool):
            return False
        if float in kinds and isinstance(value, int):
            value = float(value)
        if not isinstance(value, kinds):
            return False
        if self.choices is not None and value not in self.choices:
            return False
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                return False
            if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
                return False
            if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
                return False
        return self.check is None or bool(self.check(value))


def collect(namespace: dict, before: set) -> dict:
    """Parameters defined in ``namespace`` since ``before`` (modules and _private names skipped)."""
    return {
        k: v
        for k, v in namespace.items()
        if k not in before and not k.startswith("_") and not isinstance(v, types.ModuleType) and not callable(v)
    }


def validate(values: dict, spec: dict[str, Param]) -> dict:
    """Check every parameter against ``spec``; raise :class:`ParameterError` on the first problem.

    Returns the values unchanged when all are fine.
    """
    for name in values:
        if name not in spec:
            raise ParameterError(f"unknown parameter {name!r}; this chapter accepts: {', '.join(sorted(spec))}.")
    for name, param in spec.items():
        if name not in values:
            raise ParameterError(f"parameter {name!r} is missing from the parameters cell.")
        if not param.ok(values[name]):
            raise ParameterError(f"parameter {name!r} must be {param.accepted()}; got {values[name]!r}.")
    return values
