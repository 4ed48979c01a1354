"""The evaluation of every chapter: the shared protocol and one module per paper.

Shared: :mod:`.protocol` (parent-level splits, real-vs-real bands, verdicts, scorecard rows),
:mod:`.binned` (calibrated comparisons of binned summaries), :mod:`.sampling` (the emulator
interface, the lognormal null, generation speed). Per paper: :mod:`.p1` (CosmoGAN),
:mod:`.p2` (conditional mass maps), :mod:`.p3` (heavy-tailed 3D GAN); each holds its
chapter's typed configuration and the steps the chapter calls.
"""

from . import binned, p1, protocol, sampling

__all__ = ["binned", "protocol", "sampling", "p1"]
