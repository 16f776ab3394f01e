"""The experiment's random stream for dropout: seeded, recorded, and replayed for any epoch.

An exported script calls `torch.manual_seed(seed)`, makes its random tensors, then draws each epoch's
dropout masks from the same global generator. The run draws from its own generator in the same order
(`make_tensors` first, then every epoch's `F.dropout` calls), computing each mask exactly as ATen's CPU
dropout does, so the numbers are the script's bit for bit. Views of epoch k (its graph, the gradient
check, the landscape) need epoch k's masks again: the run keeps the generator's state every few epochs
and the sizes each epoch drew, so any epoch's state is a short replay away (at most REPLAY numbers drawn
again), and its masks are drawn once.
"""
from __future__ import annotations

import math

import torch

EVERY = 32            # epochs between kept generator states at most (each state is 5 KB) ...
REPLAY = 2_000_000    # ... and fewer where an epoch draws so much that replaying them would cost more


def dropout(noise, input, p=0.5, training=True, inplace=False):
    """F.dropout as ATen computes it on the CPU: noise ~ Bernoulli(1 - p), divided by 1 - p, times the input;
    the input itself where nothing is dropped (p = 0, not training, no elements), zeros where all is."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0 or input.numel() == 0:
        return input
    mask = torch.zeros((), dtype=input.dtype) if p == 1 else noise.draw(input, p)
    return input.mul_(mask) if inplace else input * mask


class Stream:
    """Draws masks from a live generator, as the exported script's global one would; with a `record`,
    notes each epoch's draws so the run can replay them."""

    def __init__(self, generator: torch.Generator, record: "Record | None" = None):
        self.generator, self.record = generator, record

    def epoch(self, t: int) -> None:
        if self.record is not None:
            self.record.start(t, self.generator)

    def draw(self, x: torch.Tensor, p: float) -> torch.Tensor:
        if x.device.type == "meta":
            return torch.empty_like(x)
        noise = torch.empty_like(x, dtype=torch.float32).bernoulli_(1 - p, generator=self.generator)
        noise.div_(1 - p)
        if self.record is not None:
            self.record.drew(noise.shape, noise.stride(), p)
        return noise if x.dtype == torch.float32 else noise.to(x.dtype)


class Record:
    """What a run keeps to redraw any epoch's masks: the generator state every EVERY epochs, and each
    epoch's draws (shape, strides, p). Plain tensors and tuples: it travels to worker processes."""

    def __init__(self):
        self.states: dict[int, torch.Tensor] = {}
        self.draws: list[list] = []
        self.every = EVERY

    def start(self, t: int, generator: torch.Generator) -> None:
        if t == 2:                    # epoch 1's draws say how far apart states may be: a replay draws < REPLAY
            drawn = sum(math.prod(shape) for shape, _, _ in self.draws[0])
            self.every = max(1, min(EVERY, REPLAY // max(1, drawn)))
        if t - max(self.states, default=-EVERY) >= self.every:
            self.states[t] = generator.get_state()
        self.draws.append([])

    def drew(self, shape, stride, p) -> None:
        self.draws[-1].append((tuple(shape), tuple(stride), p))

    def at(self, k: int) -> "Fixed":
        """Epoch k's masks, drawn again: its generator state replayed from the nearest kept one."""
        start = max(t for t in self.states if t <= k)
        g = torch.Generator()
        g.set_state(self.states[start])
        for draws in self.draws[start - 1:k - 1]:
            for shape, stride, p in draws:
                torch.empty_strided(shape, stride).bernoulli_(1 - p, generator=g)
        return Fixed(g)


class Fixed:
    """One epoch's masks, the same at every evaluation: drawn from the replayed generator the first time
    each is asked for, in the program's order, then given again (the gradient check evaluates the loss
    hundreds of times, the landscape at every grid point). `rewind()` starts an evaluation."""

    def __init__(self, generator: torch.Generator):
        self.stream, self.masks, self.i = Stream(generator), [], 0

    @classmethod
    def of(cls, masks) -> "Fixed":
        """An epoch's masks drawn before, with a cursor of its own."""
        fixed = cls(torch.Generator().manual_seed(len(masks)))
        fixed.masks = list(masks)
        return fixed

    def rewind(self) -> "Fixed":
        self.i = 0
        return self

    def draw(self, x: torch.Tensor, p: float) -> torch.Tensor:
        if self.i == len(self.masks):
            self.masks.append(self.stream.draw(x.detach() if x.dtype == torch.float32 else
                                               torch.empty_strided(x.shape, x.stride()), p))
        mask = self.masks[self.i]
        self.i += 1
        if tuple(mask.shape) != tuple(x.shape):       # a data-dependent shape changed between evaluations
            mask = Stream(torch.Generator().manual_seed(len(self.masks))).draw(
                torch.empty_strided(x.shape, x.stride()), p)
        return mask if mask.dtype == x.dtype else mask.to(x.dtype)
