"""The shared GAN training engine: losses, optimizers and schedules, one training loop with
atomic checkpoints and exact resume, DDP under ``torchrun``, TensorBoard and JSON records.

Modules: :mod:`.losses`, :mod:`.schedules`, :mod:`.checkpoint`, :mod:`.data`,
:mod:`.distributed`, :mod:`.side_by_side`, :mod:`.logging`, :mod:`.loop`.
"""

from .checkpoint import CheckpointError, CheckpointManager, CheckpointSkippedWarning, atomic_save
from .loop import TrainConfig, Trainer, TrainingDiverged, normal_latent
from .losses import NonSaturating, WassersteinGP, make_loss
from .schedules import make_optimizer, make_scheduler

__all__ = [
    "TrainConfig",
    "Trainer",
    "TrainingDiverged",
    "normal_latent",
    "NonSaturating",
    "WassersteinGP",
    "make_loss",
    "make_optimizer",
    "make_scheduler",
    "CheckpointError",
    "CheckpointManager",
    "CheckpointSkippedWarning",
    "atomic_save",
]
