"""The lines of a loss: `name = expr`, and the lines that change a tensor in place (`y += 1`,
`y.clamp_(min=0)`), which keep the name of what they change; a Program is those lines, the last the loss."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .nodes import BinOp, Node, Ref, _Calls, arith, source
from .ops import OPS
from .text import IN_PLACE_OPS


@dataclass(frozen=True)
class AugAssign(Node):
    """`y += expr`: Python's in-place operator, which changes y's tensor itself (a number is rebound)."""
    name: str
    op: str
    value: object

    inplace = True

    @property
    def row(self):
        return OPS["matmul"] if self.op == "@" else OPS.get(self.op)

    def target_name(self):
        return self.name

    def evaluate(self, ev, env):
        target, value = env[self.name], ev.value(self.value, env)
        ev.no_module(target)
        ev.no_module(value)
        return ev.augment(self, target, value)

    def compile(self):
        f, op, name, value = IN_PLACE_OPS[self.op], self.op, self.name, self.value.compile()

        def augment(env):
            target, v = env[name], value(env)
            return f(target, v) if isinstance(target, torch.Tensor) or isinstance(v, torch.Tensor) else \
                arith(op, target, v, "loss")
        return augment

    def source(self, prec=0):
        return f"{self.name} {self.op}= {self.value.source()}"

    def out_of_place(self):
        return BinOp(self.op, Ref(self.name), self.value)

    def line(self, name):
        return self.source()

    def describe(self):
        return f"'{self.op}='"


@dataclass(frozen=True)
class Stmt(Node):
    """A line that is an in-place call and nothing else, `y.clamp_(min=0)`: y keeps its (changed) tensor.
    `op`: the line was typed `y[i] += v` (the call is `y[i].add_(v)`), and prints as typed."""
    call: object
    name: str
    op: str = ""

    def evaluate(self, ev, env):
        ev.value(self.call, env)
        return env[self.name]

    def compile(self):
        call, name = self.call.compile(), self.name

        def run(env):
            call(env)
            return env[name]
        return run

    def source(self, prec=0):
        if self.op:
            return f"{self.call.obj.source()} {self.op}= {self.call.args[0].source()}"
        return self.call.source()

    def line(self, name):
        return self.source()

    def describe(self):
        return self.call.describe()


@dataclass(frozen=True)
class Program:
    """`name = expr` lines (or in-place lines that keep a name); the last one is the loss."""
    lines: tuple                  # ((name, node), ...)

    @property
    def loss_name(self) -> str:
        return self.lines[-1][0]

    def nodes(self):
        for _, e in self.lines:
            yield from e.walk()

    def refs(self) -> set[str]:
        return {e.name for e in self.nodes() if isinstance(e, Ref)} | \
            {e.name for e in self.nodes() if isinstance(e, AugAssign)}

    @property
    def inplace(self) -> bool:
        """Whether a line changes a tensor in place (then values are copied as they are made, for the graph)."""
        return any(e.inplace for e in self.nodes())

    @property
    def random(self) -> bool:
        """Whether the loss draws from the experiment's random stream (dropout)."""
        return any(isinstance(e, _Calls) and e.row is not None and e.row.random for e in self.nodes())


def to_source(e, prec: int = 0) -> str:
    """Plain PyTorch source for a tree: used by export_script, so it must mean exactly the same."""
    return source(e, prec)


def line_source(name: str, e) -> str:
    """One line of the exported script: `z = x @ w`, or `z += 1` as typed."""
    return e.line(name)
