"""An experiment is what the student typed; a Plan is the same experiment, validated.

`Experiment` is frozen and hashable so the UI can cache runs on it. `plan()` parses every field
with the safe language and then dry-runs the loss on the meta device: shapes, sizes and
broadcasting are checked before a single real element is allocated.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import torch

from . import budget, lang
from . import limits as L
from .errors import Bi, ExplorerError, Note
from .optimizers import OPTIMIZERS



@dataclass(frozen=True)
class Experiment:
    tensors: tuple = ()              # ((name, text), ...); a dict is accepted and kept in order
    trainable: tuple = ()
    loss: str = ""
    lr: float = 0.01
    epochs: int = 1
    optimizer: str = "gd"
    zero_grad: bool = True
    seed: int = 0

    def __post_init__(self):
        t = self.tensors
        try:
            pairs = tuple(tuple(p) for p in (t.items() if isinstance(t, dict) else t))
        except TypeError:
            pairs = ((t,),)                       # plan() explains what is wrong
        object.__setattr__(self, "tensors", pairs)
        tr = self.trainable
        try:
            tr = (tr,) if isinstance(tr, str) else tuple(tr)
        except TypeError:
            tr = (tr,)
        object.__setattr__(self, "trainable", tr)

    def replace(self, **changes) -> "Experiment":
        return replace(self, **changes)


def _unused(names) -> list[Note]:
    """One note for the trainable tensors the loss never uses: four would be four full-width notes."""
    names = list(names)
    if len(names) < 2:
        return [Note("unused_trainable", name=n) for n in names]
    en = ", ".join(f"'{n}'" for n in names[:-1]) + f" and '{names[-1]}'"
    zh = "、".join(f"「{n}」" for n in names)
    return [Note("unused_trainables", names=Bi((en, zh)))]


@dataclass(frozen=True)
class Plan:
    experiment: Experiment
    specs: dict = field(hash=False)          # name -> TensorSpec, in the student's order
    trainable: tuple = ()                    # trainable names, in tensor order
    program: lang.Program = None
    notes: tuple = ()                        # Notes known before training
    summed: bool = False                     # the loss is not a scalar and is summed
    cost: budget.Cost = budget.Cost()        # the dry run's counts, for the page's budget

    @property
    def work(self) -> float:
        """Estimated nanoseconds of one training epoch under this experiment's optimizer."""
        return budget.epoch_ns(self.cost, self.experiment.optimizer)

    @property
    def uses_random(self) -> bool:
        """Whether anything draws from the seed: a rand/randn tensor, or dropout in the loss."""
        return any(s.random for s in self.specs.values()) or self.program.random


def tensor_field(name: str) -> str:
    return f"tensor {name}"


def plan(exp: Experiment) -> Plan:
    """Validate everything about `exp` or raise ExplorerError naming the field at fault."""
    if not isinstance(exp, Experiment):
        raise ExplorerError("not_allowed", "experiment", what=type(exp).__name__, allowed="Use explorer.Experiment.")
    _check_numbers(exp)
    if not exp.tensors:
        raise ExplorerError("no_tensors", "tensors")
    if len(exp.tensors) > L.MAX_TENSORS:
        raise ExplorerError("too_many_tensors", "tensors", limit=L.MAX_TENSORS)
    specs, notes = {}, []
    for pair in exp.tensors:
        if len(pair) != 2:
            raise ExplorerError("not_allowed", "tensors", what=repr(pair)[:40], allowed="Give (name, text) pairs.")
        name, text = pair
        lang.check_name(name, "tensors")
        if name in specs:
            raise ExplorerError("duplicate_name", "tensors", name=name)
        specs[name] = lang.parse_tensor(text, tensor_field(name), name)
    for name in exp.trainable:
        if not isinstance(name, str) or name not in specs:
            raise ExplorerError("unknown_trainable", "trainable", name=name)
    trainable = tuple(n for n, s in specs.items() if n in exp.trainable or s.requires_grad)
    for name, spec in specs.items():
        if spec.dtype and spec.dtype.startswith("int:"):
            if name in trainable:
                raise ExplorerError("int_dtype", tensor_field(name), dtype=spec.dtype[4:])
            notes.append(Note("int_data", name=name, dtype=spec.dtype[4:]))
    if not trainable:
        raise ExplorerError("no_trainable", "trainable")
    recorded = 2 * exp.epochs * sum(math.prod(specs[n].shape) for n in trainable)
    if recorded > L.MAX_HISTORY:
        raise ExplorerError("history_too_large", "epochs", count=recorded, limit=L.MAX_HISTORY)
    program = lang.parse_loss(exp.loss, "loss", tuple(specs))
    loss, ev = _dry_run(program, specs, trainable)
    cost = budget.Cost(ev.ops, ev.elements, ev.flops, len(trainable), sum(math.prod(specs[n].shape) for n in trainable),
                       ev.ops if ev.dynamic else ev.unbatched, ev.elements if ev.dynamic else ev.batched, ev.rows,
                       ev.nodes)
    _check_budget(exp, ev, cost)
    dry_notes = ev.notes
    used = program.refs()
    notes += _unused(n for n in trainable if n not in used)
    for code, details in dry_notes:
        note = Note(code, **details)
        if note not in notes:
            notes.append(note)
    summed = loss.dim() > 0
    if summed:
        notes.append(Note("loss_summed", shape=tuple(loss.shape)))
    if not exp.zero_grad and exp.epochs > 1:
        notes.append(Note("accumulating"))
    return Plan(exp, specs, trainable, program, tuple(notes), summed, cost)


def _dry_run(program, specs, trainable):
    """Evaluate on the meta device: shapes and sizes are checked, nothing real is allocated."""
    env = {n: s.make(device="meta").requires_grad_(n in trainable) for n, s in specs.items()}
    ev = lang.Evaluator("loss", check=True)
    loss, _ = ev.run(program, env)
    if not isinstance(loss, torch.Tensor):
        raise ExplorerError("loss_not_tensor", "loss")
    if not loss.requires_grad:
        raise ExplorerError("loss_ignores_trainable", "loss", names=", ".join(trainable))
    return loss, ev


BACKWARD = 2         # backward holds about twice what the forward pass makes


def _check_budget(exp: Experiment, ev, cost: budget.Cost) -> None:
    """Decide before training whether the run fits, from the dry run's counts: the same experiment is
    accepted or refused on any machine at any load, and the student learns what would fit. Two parts of
    a page are refused rather than made smaller: the run (its epochs) and one epoch's trace."""
    held = ev.bytes * (1 + BACKWARD) + 4 * cost.params * 4      # values, gradients; weights, grads, state
    if held > L.MAX_EPOCH_MB * 2**20:
        raise ExplorerError("too_much_memory", "loss", mb=math.ceil(held / 2**20), limit=L.MAX_EPOCH_MB,
                            what=Bi(("values autograd keeps for backward, gradients and temporaries",
                                     "反向传播保存的值、梯度和临时张量")))
    trace = budget.trace_ns(cost)
    if trace > budget.share_ns("trace"):
        raise ExplorerError("epoch_too_heavy", "loss", time=budget.seconds(trace),
                            limit=budget.seconds(budget.share_ns("trace")))
    per_epoch = budget.epoch_ns(cost, exp.optimizer)
    if per_epoch * exp.epochs > budget.share_ns("train"):
        raise ExplorerError("too_much_work", "epochs", time=budget.seconds(per_epoch * exp.epochs),
                            per_epoch=budget.seconds(per_epoch), epochs=exp.epochs,
                            limit=budget.seconds(budget.share_ns("train")),
                            fit=budget.epochs_that_fit(cost, exp.optimizer))


def _check_numbers(exp: Experiment) -> None:
    e = exp.epochs
    if isinstance(e, bool) or not isinstance(e, int) or not 1 <= e <= L.MAX_EPOCHS:
        raise ExplorerError("epochs_range", "epochs", limit=L.MAX_EPOCHS)
    lo, hi = L.LR_RANGE
    lr = exp.lr
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or not lo <= lr <= hi:
        raise ExplorerError("lr_range", "lr", low=lo, high=hi)
    s = exp.seed
    if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= L.MAX_SEED:
        raise ExplorerError("seed_range", "seed", limit=L.MAX_SEED)
    if exp.optimizer not in OPTIMIZERS:
        raise ExplorerError("bad_optimizer", "optimizer", name=exp.optimizer, allowed=", ".join(OPTIMIZERS))
