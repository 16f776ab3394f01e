"""Autograd is not magic: its gradient next to a finite-difference estimate of the same derivative.

What `torch.autograd.gradcheck` does, on the student's own loss: nudge one weight element by ±eps
in float64, evaluate the loss twice, and take (L(w + eps) - L(w - eps)) / 2eps. Where the loss has
a kink (relu or abs at 0) the estimate is the average of the two one-sided slopes, while autograd
picks one subgradient, so the two may differ there by design.
"""
from __future__ import annotations

import torch

from . import lang
from .errors import ExplorerError

EPS = 1e-6
MAX_CHECKED = 64        # elements nudged per tensor: each costs two forward passes


def gradcheck(run, epoch: int = 1, *, eps: float = EPS,
              max_checked: int = MAX_CHECKED) -> dict[str, tuple[torch.Tensor | None, torch.Tensor, float]]:
    """{name: (autograd_grad, numeric_grad, max_abs_error)} for the trainable tensors at `epoch`.

    `autograd_grad` is d loss / d w at that epoch's weights in float32, as backward computes it
    (a fresh gradient, not one accumulated over epochs); None where the loss does not reach w.
    `numeric_grad` is the float64 central difference, for every element of tensors up to
    `max_checked` elements and for `max_checked` evenly spread elements of bigger ones (nan
    elsewhere); `max_abs_error` is the largest difference over the checked elements.
    """
    n_epochs = len(run.history)
    if not (isinstance(epoch, int) and 1 <= epoch <= n_epochs):
        raise ExplorerError("bad_epoch", "epoch", epoch=epoch, last=n_epochs)
    p = run.plan
    names = p.trainable
    weights = {n: run.history.params[n][epoch - 1] for n in names}
    env = {**run.data, **{n: w.clone().requires_grad_(True) for n, w in weights.items()}}
    total = _loss(p, env)
    grads = torch.autograd.grad(total, [env[n] for n in names], allow_unused=True)

    env64 = {k: v.detach().double() if v.is_floating_point() else v for k, v in env.items()}
    out = {}
    with torch.no_grad():
        for name, grad in zip(names, grads):
            w = env64[name]
            numeric = torch.full(w.shape, float("nan"), dtype=torch.float64)
            flat = numeric.view(-1)
            checked = _positions(w.numel(), max_checked)
            for i in checked:
                flat[i] = _slope(p, env64, name, i, eps)
            auto = None if grad is None else grad.detach()
            reference = torch.zeros_like(w) if auto is None else auto.double()
            err = (reference.view(-1)[checked] - flat[checked]).abs().max() if len(checked) else torch.tensor(0.0)
            out[name] = (auto, numeric, float(err))
    return out


def _loss(p, env) -> torch.Tensor:
    loss, _ = lang.Evaluator("loss").run(p.program, env)
    return loss.sum() if p.summed else loss


def _slope(p, env64, name, i, eps) -> float:
    w = env64[name]
    nudged = w.clone()
    flat = nudged.view(-1)
    flat[i] = w.view(-1)[i] + eps
    up = float(_loss(p, {**env64, name: nudged}))
    flat[i] = w.view(-1)[i] - eps
    down = float(_loss(p, {**env64, name: nudged}))
    return (up - down) / (2 * eps)


def _positions(numel: int, most: int) -> torch.Tensor:
    if numel <= most:
        return torch.arange(numel)
    return torch.linspace(0, numel - 1, most).round().long().unique()
