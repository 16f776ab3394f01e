"""The optimizers a student can pick, one row each: adding one touches this table only.

A row says how the page names it (English, Chinese), how the engine updates a weight with it (out of
place, the float32 ops of the exported script's update in the same order, so the numbers match it bit
for bit), the line of the exported script that makes it (None: the course's own `w.data - lr * w.grad`),
its colour in the race, and what its update costs the page's budget (ns per tensor, per element,
measured by `python -m bench calibrate`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

BETAS, EPS, MOMENTUM = (0.9, 0.999), 1e-8, 0.9     # torch.optim's defaults, as the exported script uses them


def _gd(lr: float, w: torch.Tensor):
    return lambda t, now, g: now - lr * g


def _sgd(lr: float, w: torch.Tensor):
    return lambda t, now, g: torch.add(now, g, alpha=-lr)


def _momentum(lr: float, w: torch.Tensor):
    buf = None

    def step(t, now, g):
        nonlocal buf
        buf = g.clone() if buf is None else buf.mul_(MOMENTUM).add_(g)
        return torch.add(now, buf, alpha=-lr)
    return step


def _adam(lr: float, w: torch.Tensor):
    """torch.optim.Adam's default single-tensor step."""
    beta1, beta2 = BETAS
    m, v = torch.zeros_like(w), torch.zeros_like(w)

    def step(t, now, g):
        m.lerp_(g, 1 - beta1)
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        step_size = lr / (1 - beta1 ** t)
        denom = (v.sqrt() / (1 - beta2 ** t) ** 0.5).add_(EPS)
        return torch.addcdiv(now, m, denom, value=-step_size)
    return step


@dataclass(frozen=True)
class Optimizer:
    name: str
    title: tuple                   # (en, zh)
    update: Callable               # (lr, w) -> update(t, now, grad) -> next, for one weight
    script: str | None             # the exported script's constructor; None: the course's manual update
    color: str                     # its colour in every race figure
    cost: tuple                    # ns of its update per trainable tensor, per trainable element


TABLE: dict[str, Optimizer] = {o.name: o for o in [
    Optimizer("gd", ("Gradient descent: w.data -= lr * w.grad", "梯度下降：w.data -= lr * w.grad"), _gd, None,
              "#1c7ed6", (32_400, 5.1)),
    Optimizer("sgd", ("torch.optim.SGD", "torch.optim.SGD"), _sgd, "torch.optim.SGD([{params}], lr={lr})",
              "#2f9e44", (28_800, 3.9)),
    Optimizer("momentum", ("torch.optim.SGD, momentum 0.9", "torch.optim.SGD，动量 0.9"), _momentum,
              "torch.optim.SGD([{params}], lr={lr}, momentum=0.9)", "#ae3ec9", (33_800, 4.5)),
    Optimizer("adam", ("torch.optim.Adam", "torch.optim.Adam"), _adam, "torch.optim.Adam([{params}], lr={lr})",
              "#c92a2a", (49_900, 6.6)),
]}
OPTIMIZERS = tuple(TABLE)
