"""Losses, optimizers and schedules of the training engine, against hand computations."""

import math

import pytest
import torch
from gancosmo.train.losses import NonSaturating, WassersteinGP, make_loss
from gancosmo.train.schedules import make_optimizer, make_scheduler


class Const(torch.nn.Module):
    """D(x) = the first pixel of each sample (a known logit)."""

    def forward(self, x):
        return x.flatten(1)[:, 0]


class Linear(torch.nn.Module):
    """D(x) = <w, x>: its input gradient is w everywhere."""

    def __init__(self, w):
        super().__init__()
        self.w = torch.nn.Parameter(w)

    def forward(self, x):
        return (x.flatten(1) * self.w).sum(1)


def test_bce_values_and_accuracy():
    real = torch.tensor([[2.0], [-1.0]])
    fake = torch.tensor([[-3.0], [0.5]])
    loss, stats = NonSaturating().discriminator(Const(), real, fake)

    def sp(t):  # softplus
        return math.log1p(math.exp(t))

    expect = (sp(-2) + sp(1)) / 2 + (sp(-3) + sp(0.5)) / 2
    assert loss.item() == pytest.approx(expect, rel=1e-6)
    assert stats["d_accuracy"].item() == pytest.approx(0.5)
    g = NonSaturating().generator(Const(), fake)
    assert g.item() == pytest.approx((sp(3) + sp(-0.5)) / 2, rel=1e-6)


def test_label_flip_swaps_the_whole_batch():
    real = torch.full((4, 1), 3.0)
    fake = torch.full((4, 1), -3.0)
    plain, _ = NonSaturating(0.0).discriminator(Const(), real, fake)
    always = NonSaturating(0.999999)
    flipped, stats = always.discriminator(Const(), real, fake, torch.Generator().manual_seed(0))
    assert stats["label_flip"].item() == 1.0
    assert flipped.item() == pytest.approx(2 * math.log1p(math.exp(3.0)), rel=1e-6)
    assert flipped.item() > 10 * plain.item()


def test_label_flip_rate():
    loss, rng = NonSaturating(0.01), torch.Generator().manual_seed(1)
    x = torch.zeros(1, 1)
    flips = sum(loss.discriminator(Const(), x, x, rng)[1]["label_flip"].item() for _ in range(4000))
    assert 20 <= flips <= 65  # 40 expected


@pytest.mark.parametrize("bad", [-0.1, 1.0, 2, "x", True])
def test_label_flip_range(bad):
    with pytest.raises(ValueError, match=r"label_flip must be a number in \[0, 1\)"):
        NonSaturating(bad)


def test_gradient_penalty_forms():
    w = torch.tensor([3.0, 4.0])  # ||w|| = 5
    D = Linear(w)
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    paper = WassersteinGP(gp_weight=10, gp_form="paper")
    code = WassersteinGP(gp_weight=10, gp_form="code")
    assert paper.penalty(D, real, fake).item() == pytest.approx(16.0, rel=1e-5)
    assert code.penalty(D, real, fake).item() == pytest.approx(24.0**2, rel=1e-5)
    loss, stats = paper.discriminator(D, real, fake)
    critic = D(fake).mean() - D(real).mean()
    assert loss.item() == pytest.approx(critic.item() + 160.0, rel=1e-5, abs=1e-4)
    loss.backward()  # differentiable through the penalty (double backward)
    assert D.w.grad is not None


def test_overlap_regulariser():
    real = torch.tensor([[2.0], [-1.0]])
    fake = torch.tensor([[3.0], [1.0]])
    base, _ = WassersteinGP(gp_weight=0).discriminator(Const(), real, fake)
    with_ov, stats = WassersteinGP(gp_weight=0, overlap_weight=1.0).discriminator(Const(), real, fake)
    assert stats["overlap"].item() == pytest.approx(3.0)  # mean(relu([6, -1]))
    assert with_ov.item() == pytest.approx(base.item() + 3.0)
    assert WassersteinGP().generator(Const(), fake).item() == pytest.approx(-2.0)


def test_make_loss_errors():
    assert isinstance(make_loss("bce", label_flip=0.01), NonSaturating)
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        make_loss("hinge")
    with pytest.raises(ValueError, match="gp_form"):
        WassersteinGP(gp_form="other")
    with pytest.raises(ValueError, match="gp_weight"):
        WassersteinGP(gp_weight=-1)


def test_step_decay_and_optimizers():
    p = [torch.nn.Parameter(torch.zeros(2))]
    opt = make_optimizer("rmsprop", p, 1e-3)
    assert isinstance(opt, torch.optim.RMSprop)
    sched = make_scheduler(opt, every=3, factor=0.1)
    lrs = []
    for _ in range(7):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step(), sched.step()
    assert lrs == pytest.approx([1e-3] * 3 + [1e-4] * 3 + [1e-5])
    adam = make_optimizer("adam", p, 2e-4, betas=(0.5, 0.999))
    assert adam.param_groups[0]["betas"] == (0.5, 0.999)
    const = make_scheduler(adam, every=0)
    for _ in range(5):
        adam.step(), const.step()
    assert adam.param_groups[0]["lr"] == 2e-4
    with pytest.raises(ValueError, match="unknown optimizer 'sgd'"):
        make_optimizer("sgd", p, 1e-3)
    with pytest.raises(ValueError, match="learning rate"):
        make_optimizer("adam", p, 0)
    with pytest.raises(ValueError, match="lr_decay_factor"):
        make_scheduler(adam, every=2, factor=1.5)
