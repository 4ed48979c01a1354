"""What a training run uses on its device: precision, memory format and optimizer kernels.

``auto`` settings are chosen here, once per run, and recorded in the run's ``config.json``:

* CUDA: bf16 autocast, channels-last tensors, fused optimizers.
* A CPU with native bf16 arithmetic (AVX512-BF16 or AMX, through oneDNN): bf16 autocast,
  contiguous tensors, unfused optimizers. Measured on a quiet 2-core AMD EPYC with AVX512-BF16,
  P1's networks at 64^2 (base width 32, batch 64, 25 steps): plain fp32 eager 141 maps/s,
  bf16 autocast 239, bf16 + channels-last 223 (one thread: 88, 185, 171); the 3D DCGAN at 32^3
  (filters 64, 32, 16, batch 16): plain 94 cubes/s, bf16 133, bf16 + channels-last-3d 126.
  Channels-last is therefore left off on CPUs (``benchmarks/train_throughput.py`` re-measures).
* Any other CPU: plain fp32, contiguous tensors (bf16 there is emulated and slower).

Channels-last means ``torch.channels_last`` for 4-D tensors (2D convolutions) and
``torch.channels_last_3d`` for 5-D ones (3D convolutions); ``nn.Module.to(memory_format=...)``
accepts only one of them, so :func:`to_channels_last` converts tensor by tensor.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

__all__ = ["DeviceSettings", "cpu_has_native_bf16", "resolve_settings", "to_channels_last", "channels_last_input"]


def cpu_has_native_bf16() -> bool:
    """True when this CPU computes bf16 convolutions natively (oneDNN with AVX512-BF16 or AMX)."""
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@dataclass(frozen=True)
class DeviceSettings:
    """The resolved settings of one run (written to ``config.json`` as ``device_settings``).

    Attributes
    ----------
    device : str
        ``"cpu"`` or ``"cuda"``.
    precision : {"fp32", "bf16", "fp16"}
        Autocast dtype of the forward passes (``fp32``: no autocast). Weights and optimizer
        states stay fp32 in every case.
    channels_last : bool
        Networks and batches in channels-last (2D) / channels-last-3d (3D) layout.
    fused : bool
        Fused optimizer kernels.
    reason : str
        Why ``auto`` chose these, in words.
    """

    device: str
    precision: str
    channels_last: bool
    fused: bool
    reason: str

    @property
    def amp_dtype(self) -> torch.dtype | None:
        return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[self.precision]

    def to_dict(self) -> dict:
        return asdict(self)


def resolve_settings(
    device: torch.device, precision: str = "auto", channels_last: bool | None = None, fused: bool | None = None
) -> DeviceSettings:
    """Resolve ``auto`` / ``None`` choices for ``device`` (see the module docstring)."""
    cuda = device.type == "cuda"
    fast_cpu = not cuda and cpu_has_native_bf16()
    if cuda:
        reason = "CUDA: bf16 autocast, channels-last, fused optimizers"
    elif fast_cpu:
        reason = "CPU with native bf16 (oneDNN): bf16 autocast, contiguous tensors (measured faster than channels-last)"
    else:
        reason = "CPU without native bf16: plain fp32"
    auto_fast = cuda or fast_cpu
    resolved_precision = ("bf16" if auto_fast else "fp32") if precision == "auto" else precision
    layout = cuda if channels_last is None else bool(channels_last)
    fuse = cuda if fused is None else bool(fused)
    if precision != "auto" or channels_last is not None or fused is not None:
        reason += " (some settings given explicitly)"
    return DeviceSettings(str(device.type), resolved_precision, layout, fuse, reason)


def _layout(dim: int):
    return {4: torch.channels_last, 5: torch.channels_last_3d}.get(dim)


def to_channels_last(module: nn.Module) -> nn.Module:
    """Put every 4-D parameter and buffer of ``module`` in channels-last and every 5-D one in
    channels-last-3d, in place (other tensors are left alone); returns ``module``."""

    def convert(t: torch.Tensor) -> torch.Tensor:
        fmt = _layout(t.dim())
        return t if fmt is None else t.contiguous(memory_format=fmt)

    return module._apply(convert)


def channels_last_input(x: torch.Tensor) -> torch.Tensor:
    """A batch in the channels-last layout of its rank (4-D or 5-D); other ranks unchanged."""
    fmt = _layout(x.dim())
    return x if fmt is None else x.contiguous(memory_format=fmt)
