"""Running a Program: the checked interpreter (`Evaluator`) and the training fast path (`compile_program`).

The Evaluator on the meta device is the dry run: every value's size is bounded before anything real is
allocated, the forward pass is sized for the page's budget, and in-place changes are checked as PyTorch
checks them (a leaf that requires grad, a value autograd saved for backward) and as the app must (the
experiment's own tensors stay as they are), each refusal naming the line. On real tensors it is the
forward pass the graph is traced from; `compile_program` makes the same torch calls in the same order
without any of the checks.
"""
from __future__ import annotations

import re
from typing import NamedTuple

import torch

from .. import limits as L
from ..errors import Bi, ExplorerError
from ..graph import Change, Value, saved_attrs
from .noise import Stream
from .nodes import NOISE, Axis, DType, LossModule, Num, Ref, Seq, Str, root
from .ops import OPS, check_inside
from .text import IN_PLACE_OPS, PYOPS, fold

# AssertionError: some of torch's meta decompositions check their arguments with assert (F.nll_loss of a 2-D target)
TORCH_ERRORS = (RuntimeError, IndexError, ValueError, TypeError, OverflowError, ZeroDivisionError, AssertionError)
_VALUES = (Ref, Num, Str, Axis)


class Saved(NamedTuple):
    """A tensor autograd saved for a node's backward, and the version it had then."""
    fn: object
    arg: str
    tensor: torch.Tensor
    version: int
    at: tuple                     # (line number, name, node) of the line that made the node


class Evaluator:
    """Interprets a Program on tensors. With `check=True` (the dry run on the meta device) every
    value's size is bounded, broadcasting that grows both operands is reported, in-place changes are
    checked, and the forward pass is sized for `budget`: `ops` op calls, `elements` element-operations
    (each op's inputs and output, and what it does inside), `flops` matrix products' multiply-adds, and
    `bytes` what it holds. `keep=True` remembers every value computed (`values`), in-place changes
    (`changes`) and what was detached, for the graph. `floats=torch.float64` makes the floating constants
    typed in the loss in that dtype, so a program run on float64 weights (the gradient check) does not
    meet a float32 target; integer class targets stay integer. `noise` is the random stream dropout draws
    from (the run's, at the epoch being looked at)."""

    def __init__(self, field: str = "loss", check: bool = False, keep: bool = False,
                 floats: torch.dtype | None = None, noise=None):
        self.field, self.check, self.keep, self.floats = field, check, keep, floats
        self.noise = noise
        self.notes: list[tuple[str, dict]] = []
        self.values: list[Value] = []
        self.changes: list[Change] = []
        self.detached: dict[int, tuple] = {}      # id -> (tensor, its source): values cut from the graph
        self.cuts: list[tuple] = []               # (value computed, detached input, source of that input)
        self.ops = self.unbatched = self.elements = self.batched = self.rows = self.flops = self.bytes = 0
        self._mine = [0]                          # element-operations of the op being sized, innermost last
        self.at = (0, "", None)                   # the line being evaluated: (number, name, node)
        self.inputs: dict = {}                    # the experiment's tensors, which no line may change
        self.saved: list[Saved] = []              # check: what autograd saved, node by node
        self.seen: set = set()
        self.events: list[tuple] = []             # check: (line, node, indices of `saved` it changed)
        self.nodes = 0                            # check: autograd nodes made (leaves' AccumulateGrad aside)
        self.dynamic = False                      # check: a shape depends on the weights (a mask of them selects):
                                                  # vmap cannot batch the program, the landscape runs it point by point
        self.moving: set = set()                  # check: ids of masks computed from the weights
        self.copies = False                       # keep: values copied as made (a later line changes them in place)
        self.names: dict[int, str] = {}           # keep: id of each line's tensor -> its name

    def run(self, program, env: dict) -> tuple[torch.Tensor, dict]:
        env = dict(env)
        self.inputs = {n: t for n, t in env.items() if isinstance(t, torch.Tensor)}
        self.copies = self.keep and program.inplace
        if hasattr(self.noise, "rewind"):
            self.noise.rewind()
        named = {}
        for i, (name, expr) in enumerate(program.lines, 1):
            self.at = (i, name, expr)
            env[name] = named[name] = value = self.value(expr, env)
            hit = self.detached.get(id(value))
            if hit is not None and hit[0] is value:
                self.detached[id(hit[0])] = (hit[0], f"{name} = {hit[1]}")
            if self.keep and isinstance(value, torch.Tensor):
                self.values.append(self._record(value, name))
                self.names[id(value)] = name
        loss = env[program.loss_name]
        if self.check and self.events and isinstance(loss, torch.Tensor):
            self._check_saved(loss)
        return loss, named

    # ------------------------------------------------------------ one node

    def value(self, e, env):
        t = type(e)
        if t in _VALUES:
            return e.evaluate(self, env)
        if t is tuple:
            return tuple(self.value(x, env) for x in e)
        self._mine.append(0)
        try:
            out = e.evaluate(self, env)
        except ExplorerError:
            raise
        except TORCH_ERRORS as err:
            raise ExplorerError("op_failed", self.field, op=e.describe(), detail=clean_error(err)) from None
        finally:
            mine = self._mine.pop()
        if t in (Seq, DType) or isinstance(out, LossModule):
            return out
        made = (out,) if isinstance(out, torch.Tensor) else \
            out if isinstance(out, tuple) and out and all(isinstance(x, torch.Tensor) for x in out) else ()
        if self.check and made:                          # a tensor, or max/min's (values, indices)
            op = e.row
            own = mine
            for x in made:
                self._bound(x, e)
                own += x.numel()
                self.bytes += x.numel() * x.element_size()
                self._register(x)
            self.ops += 1
            self.unbatched += op is not None and not (op.batched and (op.batched_in_place or not e.inplace))
            self.elements += round(own * (op.weight if op is not None else 1.0))
            self.batched += round(own * (op.batch_weight or op.weight if op is not None else 1.0))
        if isinstance(out, torch.Tensor) and self.keep:
            self.values.append(self._record(out))
            if e.row is not None and e.row.cut:
                self.detached[id(out)] = (out, e.source())
            elif self.detached.get(id(out), (None, ""))[1] is None:
                self.detached[id(out)] = (out, f"{e.source()} (detached)")
        return out

    def fail(self, message, /, **details):
        raise ExplorerError(message, self.field, **details)

    def no_module(self, v, func: str | None = None) -> None:
        """A loss module is only ever called: anywhere else torch would name our class in its message."""
        for x in v if isinstance(v, (list, tuple)) else (v,):
            if isinstance(x, LossModule):
                what = (Bi((f"torch.nn.{x.cls}() in arithmetic", f"torch.nn.{x.cls}() 参与算术运算")) if func is None else
                        Bi((f"torch.nn.{x.cls}() where a tensor is expected ({func})",
                            f"把 torch.nn.{x.cls}() 当作张量({func} 处)")))
                self.fail("not_allowed", what=what,
                          allowed=Bi((f"Call it on two tensors first, like torch.nn.{x.cls}()(z, y).",
                                      f"请先用两个张量调用它,例如 torch.nn.{x.cls}()(z, y)。")))

    def binop(self, node, a, b):
        self.no_module(a)
        self.no_module(b)
        if not isinstance(a, torch.Tensor) and not isinstance(b, torch.Tensor):
            return fold(node.op, a, b, self.field)       # sizes: bounded like typed numbers
        if node.op == "**" and isinstance(b, (int, float)) and abs(b) > L.MAX_EXPONENT:
            self.fail("exponent_too_large", value=b, limit=L.MAX_EXPONENT)
        if self.check:
            self._check_pair(node.op, a, b)
            self._read(a, b)
        out = PYOPS[node.op](a, b)
        if self.check and out.dtype == torch.bool and any(getattr(x, "requires_grad", False) for x in (a, b)):
            self.moving.add(id(out))                      # a mask that moves with the weights
        return self.cut(out, a, b)

    def call(self, node, row, fn, args, kwargs, where):
        """One row of the op table: its arguments checked as PyTorch's parameters, its inside sized, then
        the call (in place where spelled so)."""
        for v in (*args, *kwargs.values()):
            self.no_module(v, where.removeprefix("in "))
        bound = row.bind(args, kwargs)
        first = bound.get(row.first)
        firsts = first if row.first == "tensors" and isinstance(first, list) else [first]
        if not (isinstance(first, str) if row.first == "equation" else
                all(isinstance(x, torch.Tensor) for x in firsts)):
            self.fail("not_a_tensor", what=f"a number ({where})")
        for param, v in bound.items():
            if param != row.first and row.kind(param) == "tensor" and v is not None and not isinstance(v, torch.Tensor):
                self.fail("not_a_tensor", what=f"a number ({where}, {param}=)")
        power = bound.get(row.exponent) if row.exponent else None
        if isinstance(power, (int, float)) and abs(power) > L.MAX_EXPONENT:
            self.fail("exponent_too_large", value=power, limit=L.MAX_EXPONENT)
        inputs = [x for x in (*firsts, *bound.get("operands", ()),
                              *(v for k, v in bound.items() if k not in (row.first, "operands")))
                  if isinstance(x, torch.Tensor)]
        if self.check:
            self._read(*inputs)
            if row.target:
                self._check_target(row, bound, where.removeprefix("in "))
            self._inside(check_inside(row, self.field, bound))
        if row.random:
            args = [self.noise if self.noise is not None else default_noise()] + list(args)
        if row.casts and self.floats is not None and bound.get("dtype", torch.float32).is_floating_point:
            fn, args, kwargs = torch.Tensor.to, [first, self.floats], {}     # the check's float64 stays float64
        if node.inplace:
            out = self._in_place(node, first, lambda: fn(*args, **kwargs))
        else:
            out = fn(*args, **kwargs)
        return self.cut(out, *inputs)

    def index(self, obj, items):
        if self.check:
            self.dynamic |= any(id(i) in self.moving for i in items)
            self._read(obj)
            items = tuple(_upper_bound(i) for i in items for i in _masks(i))
        return self.cut(obj[items], obj)

    def augment(self, node, target, value):
        """`y op= value`: in place on a tensor y, as Python's operator does; numbers are rebound."""
        if not isinstance(target, torch.Tensor):
            return self.binop(node.out_of_place(), target, value)
        if self.check:
            self._check_pair(node.op, target, value)
            self._read(target, value)
        out = self._in_place(node, target, lambda: IN_PLACE_OPS[node.op](target, value))
        return self.cut(out, target, value)

    def cut(self, out, *inputs):
        """Remember where a detached value met the graph again: the graph shows the gradient path cut
        there. A constant computed from a detached value is detached too (`d * 2`)."""
        if self.detached and isinstance(out, torch.Tensor):
            for x in inputs:
                hit = self.detached.get(id(x))
                if hit is not None and hit[0] is x:
                    if out.requires_grad:
                        self.cuts.append((out, x, hit[1]))
                    else:
                        self.detached[id(out)] = (out, None)      # value() names it
        return out

    # ------------------------------------------------------------ in place

    def _in_place(self, node, target, run):
        """Change `target` in place as PyTorch does, and refuse what PyTorch refuses (a leaf that requires
        grad; in the dry run, a value autograd saved for backward, found once the loss is known) and what
        the app must (the experiment's own tensors)."""
        line, name = self.at[0], node.target_name()
        code, fix = self.at[2].line(self.at[1]), _fix(node, name)
        if self.check:
            inputs = {n: t._version for n, t in self.inputs.items()}
            before_saved = [r.tensor._version for r in self.saved]
        before = target._version
        try:
            out = run()
        except RuntimeError as err:
            if "leaf Variable that requires grad" in str(err):
                self.fail("inplace_leaf", line=line, src=code, name=name or root(node), fix=fix)
            raise
        if out is not target:                             # `y @= x`: Python falls back to y = y @ x
            return out
        if self.check:
            for n, t in self.inputs.items():
                if t._version != inputs[n]:
                    self.fail("inplace_input", line=line, src=code, name=n, fix=fix)
            hit = [i for i, r in enumerate(self.saved) if r.tensor._version != before_saved[i]]
            if hit:
                self.events.append((line, code, name, fix, hit))
        if self.keep:
            self.changes.append(Change(out.grad_fn, code, name, before, out._version))
            base = out._base
            if base is not None and base.grad_fn is not None:     # a view changed: autograd records it on its base
                whole = self.names.get(id(base), "")
                self.changes.append(Change(base.grad_fn, code, whole or name, before, base._version))
                self.values.append(self._record(base, whole))
        return out

    def _register(self, out: torch.Tensor) -> None:
        """Note every tensor the new nodes of autograd's graph saved, with its version now."""
        stack = [out.grad_fn]
        while stack:
            fn = stack.pop()
            if fn is None or fn in self.seen:
                continue
            self.seen.add(fn)
            self.nodes += type(fn).__name__ != "AccumulateGrad"
            for attr, arg in saved_attrs(fn):
                try:
                    v = getattr(fn, attr)
                except RuntimeError:
                    continue
                for t in v if isinstance(v, (tuple, list)) else (v,):
                    if isinstance(t, torch.Tensor):
                        self.saved.append(Saved(fn, arg, t, t._version, self.at))
            stack.extend(f for f, _ in fn.next_functions)

    def _check_saved(self, loss: torch.Tensor) -> None:
        """PyTorch's refusal at backward, before it: a node the loss's backward runs needs a tensor that a
        later line changed in place (its version counter moved on since autograd saved it)."""
        reached, stack = set(), [loss.grad_fn]
        while stack:
            fn = stack.pop()
            if fn is not None and fn not in reached:
                reached.add(fn)
                stack.extend(f for f, _ in fn.next_functions)
        for line, code, name, fix, hit in self.events:
            for i in hit:
                r = self.saved[i]
                if r.fn in reached:
                    n, saver_name, saver = r.at
                    self.fail("inplace_saved", line=line, src=code, name=name or "the value", fix=fix,
                              saver=saver.line(saver_name) if saver is not None else "", saver_line=n,
                              fn=type(r.fn).__name__, what=_SAVED_AS.get(r.arg, Bi((f"`{r.arg}`", f"`{r.arg}`"))),
                              saved=r.version, now=r.tensor._version)

    def _record(self, t: torch.Tensor, name: str = "") -> Value:
        shown = t.detach().clone() if self.copies else None
        return Value(t.grad_fn, t.output_nr, name, t, shown)

    # ------------------------------------------------------------ sizing

    def _check_target(self, row, bound, shown):
        z, y = bound.get(row.first), bound.get("target")
        if isinstance(z, torch.Tensor) and isinstance(y, torch.Tensor) and z.shape != y.shape \
                and not (row.target == "classes" and _class_targets(z, y)):
            self.fail("loss_shape_mismatch", op=shown, left=tuple(z.shape), right=tuple(y.shape))

    def _check_pair(self, op, a, b):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
            if op == "@":
                self.fail("bad_argument", func="@ / matmul", detail="needs tensors on both sides")
            return
        sa, sb = tuple(a.shape), tuple(b.shape)
        if op == "@":
            self._inside(check_inside(OPS["matmul"], self.field, {"input": a, "other": b}))
            return
        try:
            out = tuple(torch.broadcast_shapes(sa, sb))
        except RuntimeError:
            raise ExplorerError("shape_mismatch", self.field, op=op, left=sa, right=sb) from None
        if sa and sb and out != sa and out != sb:
            self.notes.append(("broadcast", dict(op=op, left=sa, right=sb, out=out)))

    def _read(self, *inputs):
        self._mine[-1] += sum(x.numel() for x in inputs if isinstance(x, torch.Tensor))

    def _inside(self, inside):
        self.bytes += inside.held
        self._mine[-1] += inside.elements
        self.flops += inside.flops
        self.rows += inside.rows

    def _bound(self, t, e):
        n = t.numel() or max(t.shape, default=0)
        if n > L.MAX_INTERMEDIATE:
            self.fail("too_many_elements", what=e.describe(), count=n, limit=L.MAX_INTERMEDIATE)
        if t.dim() > L.MAX_DIMS:
            self.fail("too_many_dims", what=e.describe(), count=t.dim(), limit=L.MAX_DIMS)


_SAVED_AS = {"result": Bi(("its own output", "它自己的输出")), "self": Bi(("its input", "它的输入")),
             "other": Bi(("its other input", "它的另一个输入"))}


def _fix(node, name) -> str:
    """The same line without changing anything in place: what the refusals suggest."""
    oop = node.out_of_place().source()
    return f"{name} = {oop}" if name else oop


def _masks(i):
    """A boolean mask of k dimensions selects by k index tensors (PyTorch's own rewriting of it)."""
    if isinstance(i, torch.Tensor) and i.dtype == torch.bool and i.dim() > 0:
        return [i] * i.dim()
    return [i]


def _upper_bound(i):
    """In the dry run a mask's selection is unknown: size it as selecting everything (the most it can)."""
    if isinstance(i, torch.Tensor) and i.dtype == torch.bool and i.dim() > 0:
        return torch.zeros(i.numel(), dtype=torch.long, device=i.device)
    return i


def _class_targets(z, y) -> bool:
    """cross_entropy and nll_loss take class indices: a whole-number target without the class dimension."""
    if y.is_floating_point():
        return False
    return tuple(y.shape) == (tuple(z.shape[:1]) + tuple(z.shape[2:]) if z.dim() > 1 else ())


def default_noise():
    """A stream for a program evaluated outside a run (a notebook, a test): seed 0."""
    return Stream(torch.Generator().manual_seed(0))


def compile_program(program):
    """The training fast path: the tree turned once into nested closures, with no per-op checks
    (the meta dry run already made them). Same torch calls, same order as `Evaluator`."""
    steps = tuple((name, expr.compile()) for name, expr in program.lines)
    loss_name, random = program.loss_name, program.random

    def forward(env: dict, noise=None):
        env = dict(env)
        if random:
            env[NOISE] = noise.rewind() if hasattr(noise, "rewind") else noise or default_noise()
        for name, f in steps:
            env[name] = f(env)
        return env[loss_name]
    return forward


# Where in torch's C++ a message was raised: `[enforce fail at alloc_cpu.cpp:127] data. `, a bare
# `name.cpp:123` or a path to one, with or without `/`; and the allocator's class before its words.
_SOURCE_PATH = re.compile(r"\[enforce fail at [^\]]*\]\s*(?:[^\s.]*\.\s+)?|\s*\(Triggered internally at [^)]*\)"
                          r"|(?:\s+at)?\s*\(?[^\s()]*\.(?:cpp|cc|cxx|c|h|hpp|cu|cuh|py):\d+(?::\d+)?\)?:?"
                          r"|\b\w*Allocator:\s*")
# Our own classes, should torch ever be handed one and name it: the student never typed them.
_OURS = re.compile(r"\b(?:LossModule|Num|Str|Ref|Unary|BinOp|Call|Method|Attr|Seq|Const|Slice|Index|Apply|Axis|"
                   r"DType|AugAssign|Stmt|Program|TensorSpec|Evaluator|Stream|Fixed|_Expr)\b(?=[,)=\]]|'?\s*object)")


def clean_error(err) -> str:
    """torch's message, first line, without the C++ source locations it sometimes carries and
    without the names of our own classes."""
    msg = _SOURCE_PATH.sub(" ", str(err).split("\n")[0])
    msg = _OURS.sub("expression", re.sub(r"\s+", " ", msg)).strip()
    return msg[:200]

