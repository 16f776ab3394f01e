"""The tree a loss becomes: plain frozen dataclasses, one class per kind of node.

Each class holds all its behaviour: `evaluate` (with the Evaluator's checks and sizing, see interpret.py),
`compile` (a closure for the training fast path: the same torch calls in the same order, no checks),
`source` (plain PyTorch for the exported script) and `describe` (its name in a message). Ops are looked
up in the op table by the names the parser resolved, never by anything typed.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass, fields, replace

import torch

from .ops import BUILTINS, F_FUNCTIONS, FUNCTIONS, IN_PLACE, LINALG, METHOD_FNS, MODULES, OPS
from .tensors import DTYPES
from .text import PYOPS, fold

NOISE = "\0noise"           # where a compiled forward pass finds the random stream: no name can be this
PAIRS = ("values", "indices")
_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "**": 4, ">": 0, "<": 0, ">=": 0, "<=": 0, "==": 0}


class Node:
    """What every node can do; the subclasses below say how."""
    inplace = False
    row = None                    # the op table's row, for the node's cost in the dry run (None: an addition's)

    def children(self):
        for f in fields(self):
            v = getattr(self, f.name)
            for x in (v if isinstance(v, tuple) else (v,)):
                if isinstance(x, Node):
                    yield x
                elif isinstance(x, tuple):
                    yield from (y for y in x if isinstance(y, Node))

    def walk(self):
        stack = [self]
        while stack:
            e = stack.pop()
            yield e
            stack.extend(e.children())

    def describe(self) -> str:
        return "this expression"

    def line(self, name: str) -> str:
        """The line of the exported script that gives `name` this node's value."""
        return f"{name} = {self.source()}"


def evaluate(ev, e, env):
    """A child's value: nodes through the evaluator, tuples (sizes, dims) item by item."""
    return tuple(evaluate(ev, x, env) for x in e) if type(e) is tuple else ev.value(e, env)


def compiled(e):
    if type(e) is tuple:
        parts = tuple(compiled(x) for x in e)
        return lambda env: tuple(p(env) for p in parts)
    return e.compile()


def source(e, prec=0) -> str:
    if type(e) is tuple:
        inner = ", ".join(source(x) for x in e)
        return f"({inner},)" if len(e) == 1 else f"({inner})"
    return e.source(prec)


def arguments(args, kwargs) -> str:
    return ", ".join([source(a) for a in args] + [f"{k}={source(v)}" for k, v in kwargs])


def root(e) -> str:
    """The name a value is part of: y for y, y[0], y.T or y.view(3)."""
    while isinstance(e, (Index, Attr, Method)):
        e = e.obj
    return e.name if isinstance(e, Ref) else ""


def transform(e, f):
    """The tree with f applied to every node, children first (nodes are frozen: a new tree)."""
    if isinstance(e, tuple):
        return tuple(transform(x, f) for x in e)
    if isinstance(e, Node):
        return f(replace(e, **{fl.name: transform(getattr(e, fl.name), f) for fl in fields(e)}))
    return e


def arith(op, a, b, field):
    """`a op b`; two Python numbers (sizes such as len(w)) are folded with the typed numbers' bounds."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return PYOPS[op](a, b)
    return fold(op, a, b, field)


@dataclass(frozen=True)
class Num(Node):
    value: int | float | bool | None

    def evaluate(self, ev, env):
        return self.value

    def compile(self):
        v = self.value
        return lambda env: v

    def source(self, prec=0):
        negative = isinstance(self.value, (int, float)) and math.copysign(1, self.value) < 0   # -0.0 too
        return f"({self.value!r})" if negative and prec >= 3 else repr(self.value)

    def describe(self):
        return repr(self.value)


@dataclass(frozen=True)
class Str(Num):
    value: str


@dataclass(frozen=True)
class Axis(Num):
    """`None` (a new axis) or `...` (every other axis) inside an index."""
    value: object

    def source(self, prec=0):
        return "..." if self.value is Ellipsis else "None"


@dataclass(frozen=True)
class DType(Node):
    name: str                     # "float32", "long", ...: a key of DTYPES

    def evaluate(self, ev, env):
        return DTYPES[self.name]

    def compile(self):
        d = DTYPES[self.name]
        return lambda env: d

    def source(self, prec=0):
        return f"torch.{self.name}"


@dataclass(frozen=True)
class Ref(Node):
    name: str

    def evaluate(self, ev, env):
        return env[self.name]

    def compile(self):
        return operator.itemgetter(self.name)

    def source(self, prec=0):
        return self.name

    def describe(self):
        return self.name


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: object

    def evaluate(self, ev, env):
        v = ev.value(self.operand, env)
        ev.no_module(v)
        return ev.cut(-v if self.op == "-" else +v, v)

    def compile(self):
        f, x = (operator.neg if self.op == "-" else operator.pos), self.operand.compile()
        return lambda env: f(x(env))

    def source(self, prec=0):
        s = self.op + self.operand.source(3)
        return f"({s})" if prec > 3 else s

    def describe(self):
        return f"'{self.op}'"


@dataclass(frozen=True)
class BinOp(Node):
    op: str                       # + - * / ** @, or a comparison (a mask)
    left: object
    right: object

    @property
    def row(self):
        return OPS["matmul"] if self.op == "@" else OPS.get(self.op)

    def evaluate(self, ev, env):
        a, b = ev.value(self.left, env), ev.value(self.right, env)
        return ev.binop(self, a, b)

    def compile(self):
        op, left, right, field = self.op, self.left.compile(), self.right.compile(), "loss"
        if type(self.right) is Num:
            v = self.right.value
            return lambda env: arith(op, left(env), v, field)
        if type(self.left) is Num:
            v = self.left.value
            return lambda env: arith(op, v, right(env), field)
        return lambda env: arith(op, left(env), right(env), field)

    def source(self, prec=0):
        p = _PREC[self.op]
        if p == 0:
            s = f"{self.left.source(1)} {self.op} {self.right.source(1)}"
            return f"({s})" if prec > 0 else s
        if self.op == "**":
            s = f"{self.left.source(p + 1)} ** {self.right.source(p)}"
        else:
            s = f"{self.left.source(p)} {self.op} {self.right.source(p + 1)}"
        return f"({s})" if p < prec else s

    def describe(self):
        return f"'{self.op}'"


class _Calls(Node):
    """What a call of an op-table row shares, spelled as a function, a method or a loss module."""

    def compile(self):
        fn, args, kw = self.fn(), tuple(compiled(a) for a in self.all_args()), tuple(
            (k, compiled(v)) for k, v in self.kwargs)
        if self.row.random:
            call, fn = fn, None
            return lambda env: call(env.get(NOISE), *[a(env) for a in args], **{k: v(env) for k, v in kw})
        if kw:
            return lambda env: fn(*[a(env) for a in args], **{k: v(env) for k, v in kw})
        if len(args) == 1:
            a0 = args[0]
            return lambda env: fn(a0(env))
        if len(args) == 2:
            a0, a1 = args
            return lambda env: fn(a0(env), a1(env))
        return lambda env: fn(*[a(env) for a in args])

    def target_name(self) -> str:
        """The name whose tensor an in-place call changes (its first argument's root)."""
        return root(self.all_args()[0]) if self.all_args() else ""


@dataclass(frozen=True)
class Call(_Calls):
    func: str                     # as spelled, canonical: "torch.relu", "F.mse_loss", "torch.linalg.norm", "len"
    name: str                     # the row: "relu", "linalg.norm"
    args: tuple
    kwargs: tuple = ()            # ((name, expr), ...)
    inplace: bool = False         # F.relu(z, inplace=True)

    @property
    def row(self):
        return OPS[self.name]

    def fn(self):
        if self.func.startswith("F."):
            return F_FUNCTIONS[self.name]
        if self.func.startswith("torch.linalg."):
            return LINALG[self.name.partition(".")[2]]
        return FUNCTIONS[self.name] if "." in self.func else BUILTINS[self.name]

    def all_args(self):
        return self.args

    def evaluate(self, ev, env):
        args = [evaluate(ev, a, env) for a in self.args]
        kwargs = {k: evaluate(ev, v, env) for k, v in self.kwargs}
        return ev.call(self, self.row, self.fn(), args, kwargs, f"in {self.func}")

    def source(self, prec=0):
        return f"{self.func}({arguments(self.args, self.kwargs)})"

    def out_of_place(self):
        return replace(self, kwargs=tuple((k, v) for k, v in self.kwargs if k != "inplace"), inplace=False)

    def describe(self):
        return self.func


@dataclass(frozen=True)
class Method(_Calls):
    obj: object
    name: str                     # as spelled: "sum", "add_" (in place)
    args: tuple
    kwargs: tuple = ()

    @property
    def inplace(self):
        return self.name.endswith("_")

    @property
    def row(self):
        return OPS[self.name.rstrip("_")]

    def fn(self):
        return IN_PLACE[self.name] if self.inplace else METHOD_FNS[self.name]

    def all_args(self):
        return (self.obj,) + self.args

    def evaluate(self, ev, env):
        obj = ev.value(self.obj, env)
        ev.no_module(obj, f".{self.name}()")
        if not isinstance(obj, torch.Tensor):
            ev.fail("not_a_tensor", what=f"a number (before .{self.name}())")
        args = [evaluate(ev, a, env) for a in self.args]
        kwargs = {k: evaluate(ev, v, env) for k, v in self.kwargs}
        return ev.call(self, self.row, self.fn(), [obj] + args, kwargs, f"before .{self.name}()")

    def source(self, prec=0):
        return f"{self.obj.source(5)}.{self.name}({arguments(self.args, self.kwargs)})"

    def out_of_place(self):
        return replace(self, name=self.name.rstrip("_"))

    def describe(self):
        return f".{self.name}()"


@dataclass(frozen=True)
class LossModule(Node):
    cls: str                      # "MSELoss"
    kwargs: tuple = ()

    def evaluate(self, ev, env):
        return self

    def compile(self):
        return lambda env: self

    def source(self, prec=0):
        return f"torch.nn.{self.cls}({arguments((), self.kwargs)})"

    def describe(self):
        return f"torch.nn.{self.cls}()"


@dataclass(frozen=True)
class Apply(_Calls):
    """`torch.nn.MSELoss()(z, y)`, or `loss_fn(z, y)` after `loss_fn = torch.nn.MSELoss()`."""
    module: object                # a LossModule, or a Ref to the line that made it ...
    args: tuple
    made: object = None           # ... and then that LossModule, as the parser found it

    @property
    def loss(self) -> LossModule:
        return self.made or self.module

    @property
    def row(self):
        return MODULES[self.loss.cls]

    @property
    def kwargs(self):
        return self.loss.kwargs

    def all_args(self):
        return self.args

    def evaluate(self, ev, env):
        kwargs = {k: evaluate(ev, v, env) for k, v in self.kwargs}
        args = [ev.value(a, env) for a in self.args]
        return ev.call(self, self.row, self.fn(), args, kwargs, f"in nn.{self.loss.cls}()")

    def fn(self):
        return F_FUNCTIONS[self.row.name]

    def source(self, prec=0):
        return f"{self.module.source(5)}({arguments(self.args, ())})"

    def describe(self):
        return "the loss function"


@dataclass(frozen=True)
class Attr(Node):
    obj: object
    name: str                     # "T", "mT", "ndim", "shape" (then indexed); "values", "indices" of a pair

    @property
    def row(self):
        return OPS.get(self.name) if self.name in ("T", "mT") else None

    def evaluate(self, ev, env):
        obj = ev.value(self.obj, env)
        ev.no_module(obj, f".{self.name}")
        if self.name in PAIRS:
            return obj[PAIRS.index(self.name)]
        if not isinstance(obj, torch.Tensor):
            ev.fail("not_a_tensor", what=f"a number (before .{self.name})")
        return ev.cut(_ATTRS[self.name](obj), obj)

    def compile(self):
        x = self.obj.compile()
        if self.name in PAIRS:
            i = PAIRS.index(self.name)
            return lambda env: x(env)[i]
        get = _ATTRS[self.name]
        return lambda env: get(x(env))

    def source(self, prec=0):
        return f"{self.obj.source(5)}.{self.name}"

    def describe(self):
        return f".{self.name}"


_ATTRS = {"T": lambda t: t.T, "mT": lambda t: t.mT, "shape": lambda t: t.shape, "ndim": lambda t: t.ndim}


@dataclass(frozen=True)
class Seq(Node):
    """A list of tensors: the first argument of cat and stack, einsum's operands, an index list."""
    items: tuple

    def evaluate(self, ev, env):
        return [ev.value(x, env) for x in self.items]

    def compile(self):
        parts = tuple(x.compile() for x in self.items)
        return lambda env: [p(env) for p in parts]

    def source(self, prec=0):
        return "[" + ", ".join(x.source() for x in self.items) + "]"


@dataclass(frozen=True)
class Const(Node):
    """A constant tensor typed inside the loss (a target, a mask): made as PyTorch makes it, dtype included."""
    spec: object                  # a TensorSpec
    fresh: bool = False           # made anew at every evaluation: the program changes values in place

    def evaluate(self, ev, env):
        c = self.spec.exact()
        if ev.floats is not None and c.is_floating_point():
            c = c.to(ev.floats)
        return c.to("meta") if ev.check else c

    def compile(self):
        if self.fresh:
            return lambda env: self.spec.exact()
        c = self.spec.exact()
        return lambda env: c

    def source(self, prec=0):
        return self.spec.exact_source()

    def describe(self):
        return f"torch.{self.spec.factory}"


@dataclass(frozen=True)
class Slice(Node):
    start: object = None          # nodes (numbers), or None
    stop: object = None
    step: object = None

    def evaluate(self, ev, env):
        return slice(*(None if p is None else ev.value(p, env) for p in (self.start, self.stop, self.step)))

    @property
    def constant(self) -> bool:
        return all(p is None or type(p) is Num for p in (self.start, self.stop, self.step))

    def compile(self):
        if self.constant:
            s = slice(*(None if p is None else p.value for p in (self.start, self.stop, self.step)))
            return lambda env: s
        parts = tuple(None if p is None else p.compile() for p in (self.start, self.stop, self.step))
        return lambda env: slice(*(None if p is None else p(env) for p in parts))

    def source(self, prec=0):
        text = ":".join("" if p is None else p.source() for p in (self.start, self.stop))
        return text + (f":{self.step.source()}" if self.step is not None else "")


@dataclass(frozen=True)
class Index(Node):
    obj: object
    items: tuple                  # numbers, Slices, Axis (None, ...), tensors (masks, indices)

    row = OPS["[]"]

    def evaluate(self, ev, env):
        obj = ev.value(self.obj, env)
        ev.no_module(obj, "[ ]")
        items = tuple(ev.value(i, env) for i in self.items)
        if isinstance(obj, torch.Size):                      # x.shape[d]
            return obj[items[0]]
        if not isinstance(obj, torch.Tensor):
            ev.fail("not_a_tensor", what="a number (before [ ])")
        return ev.index(obj, items)

    def compile(self):
        x, items = self.obj.compile(), tuple(i.compile() for i in self.items)
        if isinstance(self.obj, Attr) and self.obj.name == "shape":
            d = items[0]
            return lambda env: x(env)[d(env)]
        if all(type(i) in (Num, Axis) or type(i) is Slice and i.constant for i in self.items):
            idx = tuple(i(None) for i in items)
            return lambda env: x(env)[idx]
        return lambda env: x(env)[tuple(i(env) for i in items)]

    def source(self, prec=0):
        items = ", ".join(i.source() for i in self.items)
        return f"{self.obj.source(5)}[{items or '()'}]"

    def describe(self):
        return "indexing [ ]"
