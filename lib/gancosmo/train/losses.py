"""GAN losses used by the five papers, behind one small interface.

A loss object has two methods:

* ``discriminator(D, real, fake, rng)`` -> ``(loss, stats)``: the discriminator (critic)
  objective on a real batch and a detached fake batch; ``stats`` holds detached scalars
  (``d_real``, ``d_fake``, ``d_accuracy`` where defined, ``gp``...).
* ``generator(D, fake)`` -> ``loss``.

``rng`` is a :class:`torch.Generator` on the CPU owned by the trainer (its state goes into
checkpoints), used for label flips and interpolation weights so that a resumed run draws
the same numbers.

Losses
------
``"bce"``: :class:`NonSaturating`, the DCGAN loss of P1, P3, P5 (sigmoid cross-entropy on
the discriminator's logits; generator maximises log D(G(z))), with P1's label flipping.
``"wgan-gp"``: :class:`WassersteinGP`, P2 and P4 (critic plus gradient penalty; optional
P4 regulariser ``relu(D_real * D_fake)``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["NonSaturating", "WassersteinGP", "make_loss", "LOSSES"]


def _fraction(name: str, value: float, high_open: bool = True) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (0.0 <= value < 1.0 if high_open else 0.0 <= value <= 1.0)
    ):
        raise ValueError(f"{name} must be a number in [0, 1{')' if high_open else ']'}, got {value!r}.")
    return float(value)


class NonSaturating:
    """Non-saturating sigmoid cross-entropy loss (P1 Eqs. 2-3) with label flipping.

    Parameters
    ----------
    label_flip : float
        Probability, per discriminator step, that the real and fake labels of the whole
        batch are swapped (P1: 0.01, as in the authors' code). In [0, 1).
    """

    name = "bce"
    has_accuracy = True

    def __init__(self, label_flip: float = 0.0):
        self.label_flip = _fraction("label_flip", label_flip)

    def discriminator(self, D, real, fake, rng: torch.Generator | None = None):
        flip = False
        if self.label_flip > 0:
            flip = bool(torch.rand((), generator=rng) < self.label_flip)
        out_real, out_fake = D(real).float(), D(fake).float()
        ones, zeros = torch.ones_like(out_real), torch.zeros_like(out_fake)
        if flip:
            ones, zeros = torch.zeros_like(out_real), torch.ones_like(out_fake)
        loss = F.binary_cross_entropy_with_logits(out_real, ones) + F.binary_cross_entropy_with_logits(out_fake, zeros)
        with torch.no_grad():
            acc = 0.5 * ((out_real > 0).float().mean() + (out_fake < 0).float().mean())
            stats = dict(
                d_real=torch.sigmoid(out_real).mean(),
                d_fake=torch.sigmoid(out_fake).mean(),
                d_accuracy=acc,
                label_flip=torch.tensor(float(flip)),
            )
        return loss, stats

    def generator(self, D, fake):
        out = D(fake).float()
        return F.binary_cross_entropy_with_logits(out, torch.ones_like(out))


class WassersteinGP:
    """Wasserstein critic loss with gradient penalty (Gulrajani et al. 2017; P2, P4).

    Parameters
    ----------
    gp_weight : float
        Penalty weight gamma (P2, P4: 10). Zero disables the penalty.
    gp_form : {"paper", "code"}
        ``"paper"``: ``gamma * mean((||grad|| - 1)^2)``; ``"code"``: P2's released code,
        ``gamma * (sum ||grad||^2 / batch - 1)^2``.
    overlap_weight : float
        Weight of P4's extra term ``mean(relu(D_real * D_fake))`` (P4's 3D stages: 1; 0 off).
    """

    name = "wgan-gp"
    has_accuracy = False

    def __init__(self, gp_weight: float = 10.0, gp_form: str = "paper", overlap_weight: float = 0.0):
        for n, v in (("gp_weight", gp_weight), ("overlap_weight", overlap_weight)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
                raise ValueError(f"{n} must be a non-negative number, got {v!r}.")
        if gp_form not in ("paper", "code"):
            raise ValueError(f"gp_form must be 'paper' or 'code', got {gp_form!r}.")
        self.gp_weight, self.gp_form, self.overlap_weight = float(gp_weight), gp_form, float(overlap_weight)

    def penalty(self, D, real, fake, rng=None):
        """Gradient penalty on random interpolates between ``real`` and ``fake``."""
        shape = (real.shape[0],) + (1,) * (real.dim() - 1)
        eps = torch.rand(shape, generator=rng).to(device=real.device, dtype=real.dtype)
        x = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
        out = D(x).float()
        (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
        sq = grad.float().flatten(1).pow(2).sum(1)
        if self.gp_form == "paper":
            return ((sq + 1e-12).sqrt() - 1).pow(2).mean()
        return (sq.sum() / real.shape[0] - 1).pow(2)

    def discriminator(self, D, real, fake, rng: torch.Generator | None = None):
        out_real, out_fake = D(real).float(), D(fake).float()
        loss = out_fake.mean() - out_real.mean()
        stats = dict(
            d_real=out_real.detach().mean(),
            d_fake=out_fake.detach().mean(),
            wasserstein=(out_real.mean() - out_fake.mean()).detach(),
        )
        if self.gp_weight > 0:
            gp = self.penalty(D, real, fake, rng)
            loss = loss + self.gp_weight * gp
            stats["gp"] = gp.detach()
        if self.overlap_weight > 0:
            ov = torch.relu(out_real * out_fake).mean()
            loss = loss + self.overlap_weight * ov
            stats["overlap"] = ov.detach()
        return loss, stats

    def generator(self, D, fake):
        return -D(fake).float().mean()


LOSSES = {"bce": NonSaturating, "wgan-gp": WassersteinGP}


def make_loss(name: str, **options):
    """Build a loss by name (``"bce"`` or ``"wgan-gp"``) with its keyword options."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; accepted: {', '.join(LOSSES)}.")
    return LOSSES[name](**options)
