"""The safe expression language: what a student may type, parsed by `ast` and never executed.

Text becomes a small tree of plain dataclasses through an allow-list walk; anything not on the
list is rejected by name. The tree is then interpreted by `Evaluator` (or compiled by
`compile_program`) with the callables of the op table in `ops`, so no user-chosen name ever
reaches `getattr`, a module or a file.
"""
from __future__ import annotations

import ast
import builtins
import io
import keyword
import math
import operator
import re
import textwrap
import tokenize
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .. import limits as L
from ..errors import Bi, ExplorerError
from .ops import BARE, F_FUNCTIONS, FUNCTIONS, KEYWORDS, METHOD_FNS, OPS, check_inside

# ---------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Num:
    value: int | float | bool


@dataclass(frozen=True)
class Str:
    value: str


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Unary:
    op: str
    operand: object


@dataclass(frozen=True)
class BinOp:
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Call:
    func: str                     # canonical: "torch.relu", "F.mse_loss"
    args: tuple
    kwargs: tuple = ()            # ((name, expr), ...)


@dataclass(frozen=True)
class Method:
    obj: object
    name: str
    args: tuple
    kwargs: tuple = ()


@dataclass(frozen=True)
class Attr:
    obj: object
    name: str                     # "T", "mT"; "values", "indices" after max/min with dim


@dataclass(frozen=True)
class Seq:
    """A list literal of tensors: only as the first argument of cat and stack."""
    items: tuple


@dataclass(frozen=True)
class Const:
    """A constant tensor typed inside the loss (a target, a mask): made as PyTorch makes it, dtype included."""
    spec: object                  # a TensorSpec


@dataclass(frozen=True)
class Slice:
    start: int | None
    stop: int | None
    step: int | None


@dataclass(frozen=True)
class Index:
    obj: object
    items: tuple                  # ints and Slices


@dataclass(frozen=True)
class LossModule:
    cls: str                      # "MSELoss"
    kwargs: tuple = ()


@dataclass(frozen=True)
class Apply:
    module: object                # a LossModule or a Ref to one
    args: tuple


@dataclass(frozen=True)
class Program:
    """`name = expr` lines; the last one is the loss."""
    lines: tuple                  # ((name, expr), ...)

    @property
    def loss_name(self) -> str:
        return self.lines[-1][0]

    def refs(self) -> set[str]:
        found, stack = set(), [e for _, e in self.lines]
        while stack:
            e = stack.pop()
            if isinstance(e, Ref):
                found.add(e.name)
            elif hasattr(e, "__dataclass_fields__"):
                for f in e.__dataclass_fields__:
                    v = getattr(e, f)
                    stack.extend(v if isinstance(v, tuple) else [v])
            elif isinstance(e, tuple):
                stack.extend(e)
        return found


# ---------------------------------------------------------------- the allow-lists

BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
COMPARE = {ast.Gt: ">", ast.Lt: "<", ast.GtE: ">=", ast.LtE: "<=", ast.Eq: "=="}
PYOPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
         "**": operator.pow, "@": operator.matmul, ">": operator.gt, "<": operator.lt, ">=": operator.ge,
         "<=": operator.le, "==": operator.eq}
LOSSES = {n: getattr(F, n) for n in
          ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "cross_entropy")}
LOSS_CLASSES = {"MSELoss": "mse_loss", "L1Loss": "l1_loss", "SmoothL1Loss": "smooth_l1_loss",
                "HuberLoss": "huber_loss", "BCELoss": "binary_cross_entropy",
                "BCEWithLogitsLoss": "binary_cross_entropy_with_logits", "CrossEntropyLoss": "cross_entropy"}
# the losses of the op table with a module spelling, torch.nn.NLLLoss()(logp, target)
CLASSES = {**LOSS_CLASSES, "NLLLoss": "nll_loss", "KLDivLoss": "kl_div"}
METHODS = tuple(METHOD_FNS)
FACTORIES = ("tensor", "ones", "zeros", "rand", "randn", "full", "eye", "arange", "linspace")
ATTRS = ("T", "mT")
_PAIRS = ("values", "indices")           # of max/min along a dim

_LOSS_KEYWORDS = ("reduction",)
# What a course's training loop does around the loss, which the app does itself: each gets its own lesson.
_APP_DOES = {"backward": "backward_by_app", "grad": "grad_on_graph", "zero_": "zero_grad_by_app",
             "zero_grad": "zero_grad_by_app", "step": "step_by_app"}
_REDUCTIONS = ("mean", "sum", "none")

NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
RESERVED = {"torch", "F", "nn", "functional", "True", "False", "None"} | set(BARE) | set(LOSSES) \
    | set(CLASSES) | set(FACTORIES) | set(keyword.kwlist) | set(keyword.softkwlist) \
    | {n for n in dir(builtins) if not n.startswith("_")}     # the exported script must run as Python

_READABLE = {
    "Lambda": "a lambda", "ListComp": "a comprehension", "SetComp": "a comprehension",
    "DictComp": "a comprehension", "GeneratorExp": "a generator expression", "JoinedStr": "an f-string",
    "FormattedValue": "an f-string", "Import": "import", "ImportFrom": "import", "Compare": "a comparison",
    "BoolOp": "and/or", "IfExp": "if/else", "If": "if", "For": "a loop", "While": "a loop",
    "With": "with", "FunctionDef": "def", "ClassDef": "class", "Return": "return", "Delete": "del",
    "Global": "global", "Nonlocal": "nonlocal", "Try": "try", "Raise": "raise", "Assert": "assert",
    "AugAssign": "+= style assignment", "AnnAssign": "annotations", "Starred": "*args",
    "Dict": "a dict", "Set": "a set", "List": "a list", "Await": "await", "Yield": "yield",
    "NamedExpr": ":=", "Bytes": "bytes", "Pass": "pass", "Break": "break", "Continue": "continue",
    "Expr": "a line without a name (only the last line may be a bare expression; write name = expression)",
    "BinOp": "arithmetic", "UnaryOp": "this operator", "Constant": "this value", "Subscript": "indexing",
    "Tuple": "a tuple", "Call": "this call", "Attribute": "this attribute", "Assign": "this assignment",
    "Match": "match", "TryStar": "try", "AsyncFunctionDef": "def", "AsyncFor": "a loop", "AsyncWith": "with",
    "YieldFrom": "yield",
}
_LOSS_HELP = Bi((
    "Allowed: numbers, your tensor names, + - * / ** @, comparisons like w > 0 (masks), ( ), indexing like "
    "z[0] or z[:, 1], functions such as torch.relu(z), F.softmax(z, dim=1) or F.mse_loss(z, y), methods such "
    "as z.sum() or z.max(dim=1).values, torch.cat([a, b]), constants such as torch.tensor([0, 1]), "
    "and lines of the form name = expression.",
    "允许的写法:数字、你的张量名、+ - * / ** @、比较如 w > 0(掩码)、( )、索引如 z[0] 或 z[:, 1]、函数如 "
    "torch.relu(z)、F.softmax(z, dim=1) 或 F.mse_loss(z, y)、方法如 z.sum() 或 z.max(dim=1).values、"
    "torch.cat([a, b])、常量如 torch.tensor([0, 1]),以及「名字 = 表达式」形式的多行。"))
_TENSOR_HELP = Bi((
    "A tensor is a number, a nested list like [[1, 2], [3, 4]], or one of "
    "torch.tensor/ones/zeros/rand/randn/full/eye/arange/linspace with number arguments.",
    "张量可以是一个数、嵌套列表如 [[1, 2], [3, 4]],或者参数为数字的 "
    "torch.tensor/ones/zeros/rand/randn/full/eye/arange/linspace。"))


# ---------------------------------------------------------------- text checks


def _check_text(text, field: str, help_text: str) -> str:
    """Length and look-alike characters, before anything is interpreted; returns the text with one
    kind of line break, so the parser reads the very lines this check passed."""
    if not isinstance(text, str):
        raise ExplorerError("not_allowed", field, what=type(text).__name__, allowed=help_text)
    if len(text) > L.MAX_TEXT:
        raise ExplorerError("too_long", field, length=len(text), limit=L.MAX_TEXT)
    if not text.strip():
        raise ExplorerError("empty", field)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    code = _without_comments(text, field)
    for pos, ch in enumerate(code, 1):
        if not ch.isascii() or (ord(ch) < 32 and ch not in "\n\t\r"):
            raise ExplorerError("non_ascii", field, char=ch if ch.isprintable() else repr(ch), pos=pos)
    return text


def _without_comments(text: str, field: str) -> str:
    """Comments may be in any language (the course's are Chinese); code must be ASCII."""
    lines = io.StringIO(text).readlines()     # the lines tokenize numbers (splitlines also splits at \r)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                (row, col), (_, end) = tok.start, tok.end
                line = lines[row - 1]
                lines[row - 1] = line[:col] + " " * (end - col) + line[end:]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass        # ast.parse reports the real problem
    return "".join(lines)


def _parse(text: str, field: str, help_text: str) -> ast.Module:
    text = _check_text(text, field, help_text)
    try:
        tree = ast.parse(textwrap.dedent(text.strip("\n")), mode="exec")     # pasted from inside a function
    except SyntaxError as e:
        raise ExplorerError("syntax", field, detail=f"{e.msg} (line {e.lineno})") from None
    except (ValueError, RecursionError, MemoryError) as e:
        raise ExplorerError("syntax", field, detail=str(e) or type(e).__name__) from None
    if not tree.body:
        raise ExplorerError("empty", field)
    count, stack = 0, [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > L.MAX_DEPTH:
            raise ExplorerError("too_deep", field, limit=L.MAX_DEPTH)
        if count > L.MAX_NODES:
            raise ExplorerError("too_many_ops", field, limit=L.MAX_NODES)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    if len(tree.body) > L.MAX_LINES:
        raise ExplorerError("too_many_lines", field, limit=L.MAX_LINES)
    return tree


def _reject(node, field, help_text=_LOSS_HELP):
    what = _READABLE.get(type(node).__name__, f"'{type(node).__name__}'")
    raise ExplorerError("not_allowed", field, what=what, allowed=help_text)


def check_name(name, field: str = "name") -> str:
    if not isinstance(name, str) or not NAME_RE.match(name) or len(name) > L.MAX_NAME or name in RESERVED:
        raise ExplorerError("bad_name", field, name=name, limit=L.MAX_NAME)
    return name


# ---------------------------------------------------------------- the loss


def parse_loss(text: str, field: str = "loss", known: tuple[str, ...] = ()) -> Program:
    """Loss text -> Program. `known` are the tensor names; each line may only use names defined before it."""
    tree = _parse(text, field, _LOSS_HELP)
    defined, modules, consts, lines = set(known), set(), {}, []
    for i, stmt in enumerate(tree.body):
        last = i == len(tree.body) - 1
        if isinstance(stmt, ast.Assign):
            if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
                _reject(stmt.targets[0] if len(stmt.targets) == 1 else stmt, field)
            name = stmt.targets[0].id
            if name.startswith("_"):
                raise ExplorerError("not_allowed", field, what=f"the name '{name}'", allowed=_LOSS_HELP)
            check_name(name, field)
            if name in known:
                raise ExplorerError("reserved_name", field, name=name)
            value = stmt.value
        elif isinstance(stmt, ast.Expr) and last:
            name, value = "loss", stmt.value
        else:
            if isinstance(stmt, ast.Expr):               # loss.sum().backward() pasted from the course
                _Expr(field, defined, modules, consts).build(stmt.value)
            _reject(stmt, field)
        expr = _Expr(field, defined, modules, consts).build(value)
        if isinstance(expr, LossModule):
            modules.add(name)
        elif name in modules:
            modules.discard(name)
        if isinstance(expr, Num):
            consts[name] = expr
        else:
            consts.pop(name, None)
        defined.add(name)
        lines.append((name, expr))
    if isinstance(lines[-1][1], LossModule):
        raise ExplorerError("loss_not_tensor", field)
    return Program(tuple(lines))


class _Expr:
    """One allow-list walk over an ast expression, producing the plain tree above."""

    def __init__(self, field, defined, modules, consts=None):
        self.field, self.defined, self.modules, self.consts = field, defined, modules, consts or {}

    def build(self, node):
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            _reject(node, self.field)
        return method(node)

    def _Constant(self, node):
        if type(node.value) not in (int, float):
            raise ExplorerError("not_allowed", self.field, what=f"the value {node.value!r:.40}", allowed=_LOSS_HELP)
        return Num(_literal(node.value, self.field))

    def _Name(self, node):
        name = node.id
        if name.startswith("_"):
            raise ExplorerError("not_allowed", self.field, what=f"the name '{name}'", allowed=_LOSS_HELP)
        if name in self.consts:                          # `e = 9` then `e ** e`: bounded as if typed
            return self.consts[name]
        if name in self.modules:
            raise ExplorerError("not_allowed", self.field, what=f"using the loss function '{name}' as a value",
                                allowed=Bi((f"Call it, like {name}(z, y).", f"请调用它,例如 {name}(z, y)。")))
        if name in self.defined:
            return Ref(name)
        if name in ("torch", "F", "nn"):
            raise ExplorerError("not_allowed", self.field, what=f"the module '{name}' on its own",
                                allowed=_LOSS_HELP)
        raise ExplorerError("unknown_name", self.field, name=name,
                            known=", ".join(sorted(self.defined)) or "-")

    def _UnaryOp(self, node):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            _reject(node, self.field)
        operand = self.build(node.operand)
        op = "-" if isinstance(node.op, ast.USub) else "+"
        if isinstance(operand, Num):
            return Num(-operand.value if op == "-" else operand.value)
        return Unary(op, operand)

    def _BinOp(self, node):
        op = BINOPS.get(type(node.op))
        if op is None:
            raise ExplorerError("not_allowed", self.field, what=f"the operator {type(node.op).__name__}",
                                allowed=_LOSS_HELP)
        left, right = self.build(node.left), self.build(node.right)
        if op == "**" and isinstance(right, Num) and abs(right.value) > L.MAX_EXPONENT:
            raise ExplorerError("exponent_too_large", self.field, value=right.value, limit=L.MAX_EXPONENT)
        if isinstance(left, Num) and isinstance(right, Num):
            return Num(_fold(op, left.value, right.value, self.field))
        return BinOp(op, left, right)

    def _Subscript(self, node):
        obj = self.build(node.value)
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if len(items) > L.MAX_DIMS:
            raise ExplorerError("too_many_dims", self.field, what="this index", count=len(items), limit=L.MAX_DIMS)
        out = []
        for it in items:
            if isinstance(it, ast.Slice):
                out.append(Slice(*(None if p is None else self._int(p, "an index") for p in
                                   (it.lower, it.upper, it.step))))
            else:
                out.append(self._int(it, "an index"))
        return Index(obj, tuple(out))

    def _int(self, node, what) -> int:
        v = self.build(node)
        if not isinstance(v, Num) or isinstance(v.value, bool) or not float(v.value).is_integer():
            raise ExplorerError("bad_argument", self.field, func=what, detail="must be a whole number")
        return int(v.value)

    def _Compare(self, node):
        """`w > 0` is a mask (a bool tensor, no gradient) for where() and arithmetic."""
        if len(node.ops) != 1:
            raise ExplorerError("not_allowed", self.field, what=Bi(("a chained comparison", "连写的比较")),
                                allowed=Bi(("Compare two values at a time, like (w > 0) * (w < 1).",
                                            "一次只比较两个值,例如 (w > 0) * (w < 1)。")))
        op = COMPARE.get(type(node.ops[0]))
        if op is None:
            _reject(node, self.field)
        left, right = self.build(node.left), self.build(node.comparators[0])
        if isinstance(left, Num) and isinstance(right, Num):
            return Num(_fold(op, left.value, right.value, self.field))
        return BinOp(op, left, right)

    def _Attribute(self, node):
        path = _dotted(node)
        if path is not None and path.split(".")[0] in ("torch", "F", "nn"):
            raise ExplorerError("not_allowed", self.field, what=f"'{path}' without calling it",
                                allowed=_LOSS_HELP)
        if node.attr.startswith("_"):
            raise ExplorerError("not_allowed", self.field, what=f"the attribute '.{node.attr}'",
                                allowed=_LOSS_HELP)
        if node.attr in _APP_DOES:
            raise ExplorerError(_APP_DOES[node.attr], self.field)
        if node.attr in _PAIRS:
            self.pair = isinstance(node.value, ast.Call)
            inner = self.build(node.value)
            self.pair = False
            if not _along(inner):
                raise ExplorerError("values_need_dim", self.field, name=node.attr)
            return Attr(inner, node.attr)
        if node.attr not in ATTRS:
            raise ExplorerError("unknown_method", self.field, name=node.attr,
                                allowed=", ".join(METHODS + ATTRS + _PAIRS))
        return Attr(self.build(node.value), node.attr)

    def _Call(self, node):
        pair, self.pair = getattr(self, "pair", False), False
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise ExplorerError("not_allowed", self.field, what="*args / **kwargs", allowed=_LOSS_HELP)
        f = node.func
        path = _dotted(f)
        if path is not None:
            func = _canonical(path)
            if func is None and "." not in path and path in self.modules:
                self._kwargs(node, (), path)
                return Apply(Ref(path), self._args(node, 2, 2, path))
            if func is None and "." not in path and path in self.defined:
                raise ExplorerError("not_allowed", self.field, what=f"calling '{path}' (it is a tensor)",
                                    allowed=_LOSS_HELP)
            if func is None and "." in path and path.split(".")[0] not in ("torch", "F", "nn"):
                return self._method(f.value, f.attr, node, pair)
            if func is None:
                name = path.rsplit(".", 1)[-1]
                if name.startswith("_"):
                    raise ExplorerError("not_allowed", self.field, what=f"'{path}'", allowed=_LOSS_HELP)
                raise ExplorerError("unknown_function", self.field, name=path,
                                    allowed=", ".join(list(FUNCTIONS) + [f"F.{n}" for n in F_FUNCTIONS]
                                                      + list(LOSSES) + list(CLASSES)))
            kind, name = func
            if kind == "class":
                if node.args:
                    raise ExplorerError("bad_argument", self.field, func=f"{name}()",
                                        detail="takes only keyword arguments such as reduction='mean'")
                op = OPS.get(CLASSES[name]) if name not in LOSS_CLASSES else None
                return LossModule(name, self._kwargs(node, op.keywords, name, op.choices) if op else
                                  self._kwargs(node, _LOSS_KEYWORDS, name))
            if kind == "loss":
                return Call(f"F.{name}", self._args(node, 2, 2, name), self._kwargs(node, _LOSS_KEYWORDS, name))
            if kind == "const":
                return _const(node, self.field)
            op = OPS[name]
            lo, hi = op.arity
            shown = name if kind == "torch" else f"F.{name}"
            args = self._op_args(op, node, lo + 1, hi + 1, shown, method=False)
            kwargs = self._kwargs(node, op.keywords, shown, op.choices)
            args, kwargs = self._op_fix(op, args, kwargs, pair)
            return Call(f"{kind}.{name}", args, kwargs)
        if isinstance(f, ast.Call):                      # torch.nn.MSELoss()(z, y)
            module = self.build(f)
            if isinstance(module, LossModule):
                self._kwargs(node, (), f"{module.cls}()(...)")
                return Apply(module, self._args(node, 2, 2, module.cls))
        if isinstance(f, ast.Attribute):                 # (expr).method(...)
            return self._method(f.value, f.attr, node, pair)
        _reject(f, self.field)

    def _method(self, obj_node, name, node, pair=False):
        if name.startswith("_"):
            raise ExplorerError("not_allowed", self.field, what=f"the attribute '.{name}'", allowed=_LOSS_HELP)
        if name in _APP_DOES:
            raise ExplorerError(_APP_DOES[name], self.field)
        if name not in METHODS:
            raise ExplorerError("unknown_method", self.field, name=name,
                                allowed=", ".join(METHODS + ATTRS + _PAIRS))
        obj = self.build(obj_node)
        op = OPS[name]
        lo, hi = op.arity
        args = self._op_args(op, node, lo, hi, f".{name}()", method=True)
        kwargs = self._kwargs(node, op.keywords, f".{name}()", op.choices)
        args, kwargs = self._op_fix(op, (obj,) + args, kwargs, pair)
        return Method(obj, name, args[1:], kwargs)

    def _op_args(self, op, node, lo, hi, func, method):
        """Positional arguments of a table op: counted, a list only for cat/stack, sizes checked."""
        if not lo <= len(node.args) <= hi:
            want = f"{lo}" if lo == hi else f"{lo} to {hi}"
            raise ExplorerError("bad_argument", self.field, func=func,
                                detail=f"takes {want} positional argument(s), got {len(node.args)}")
        args = []
        for i, a in enumerate(node.args):
            if op.tensors and i == 0 and not method:
                if not isinstance(a, (ast.List, ast.Tuple)) or not a.elts:
                    raise ExplorerError("bad_argument", self.field, func=func,
                                        detail=Bi(("takes a list of tensors, like [a, b]", "需要一个张量列表,例如 [a, b]")))
                args.append(Seq(tuple(self.build(x) for x in a.elts)))
            elif isinstance(a, ast.Tuple) and op.sizes:
                args.append(tuple(Num(self._int(x, "a size")) for x in a.elts))
            else:
                args.append(self.build(a))
        if method and op.sizes and len(args) == 1 and isinstance(args[0], tuple) and args[0]:
            args = list(args[0])
        if op.sizes:
            sizes = [x for a in args for x in (a if isinstance(a, tuple) else (a,))]
            if len(sizes) > L.MAX_DIMS + 1:
                raise ExplorerError("too_many_dims", self.field, what=func, count=len(sizes), limit=L.MAX_DIMS)
            if any(isinstance(a, Num) and not -1 <= a.value <= L.MAX_INTERMEDIATE for a in sizes):
                raise ExplorerError("bad_argument", self.field, func=func,
                                    detail=Bi((f"sizes must be -1 or whole numbers from 0 to {L.MAX_INTERMEDIATE}",
                                               f"尺寸必须是 -1 或 0 到 {L.MAX_INTERMEDIATE} 之间的整数")))
        if op.name == "pow" and isinstance(args[-1], Num) and abs(args[-1].value) > L.MAX_EXPONENT:
            raise ExplorerError("exponent_too_large", self.field, value=args[-1].value, limit=L.MAX_EXPONENT)
        return tuple(args)

    def _op_fix(self, op, args, kwargs, pair):
        """What an entry needs beyond arity and keywords: max/min along a dim name their pair of
        results; clamp with one tensor bound gets its number bound as a tensor too (PyTorch's rule)."""
        if op.name in ("max", "min"):
            along = any(k == "dim" for k, _ in kwargs) or (len(args) > 1 and isinstance(args[1], Num))
            if along != pair and along:
                raise ExplorerError("max_dim_pair", self.field, name=op.name)
        if op.name == "clamp":
            bounds = dict(zip(("min", "max"), args[1:])) | dict(kwargs)
            if any(not isinstance(b, Num) for b in bounds.values()):
                fix = lambda b: Const(_scalar_spec(b.value)) if isinstance(b, Num) else b
                args = args[:1] + tuple(fix(b) for b in args[1:])
                kwargs = tuple((k, fix(v)) for k, v in kwargs)
        return args, kwargs

    def _args(self, node, lo, hi, func):
        if not lo <= len(node.args) <= hi:
            want = f"{lo}" if lo == hi else f"{lo} to {hi}"
            raise ExplorerError("bad_argument", self.field, func=func,
                                detail=f"takes {want} positional argument(s), got {len(node.args)}")
        return tuple(self.build(a) for a in node.args)

    def _kwargs(self, node, allowed, func, choices=None):
        out = []
        for k in node.keywords:
            if k.arg not in allowed:
                raise ExplorerError("bad_keyword", self.field, name=k.arg, func=func,
                                    allowed=", ".join(allowed) or "-")
            v, kind = k.value, (choices or {}).get(k.arg) or KEYWORDS[k.arg]
            if k.arg == "reduction" and not choices:
                if not (isinstance(v, ast.Constant) and v.value in _REDUCTIONS):
                    raise ExplorerError("bad_argument", self.field, func=func,
                                        detail="reduction must be 'mean', 'sum' or 'none'")
                out.append((k.arg, Str(v.value)))
            elif isinstance(kind, tuple):
                if not (isinstance(v, ast.Constant) and v.value in kind):
                    raise ExplorerError("bad_argument", self.field, func=func,
                                        detail=f"{k.arg} must be one of: " + ", ".join(map(repr, kind)))
                out.append((k.arg, Str(v.value)))
            elif kind == "bool":
                if not (isinstance(v, ast.Constant) and isinstance(v.value, bool)):
                    raise ExplorerError("bad_argument", self.field, func=func,
                                        detail=f"{k.arg} must be True or False")
                out.append((k.arg, Num(v.value)))
            elif kind == "int":
                out.append((k.arg, Num(self._int(v, k.arg))))
            elif kind == "number":
                n = self.build(v)
                if not isinstance(n, Num) or isinstance(n.value, bool):
                    raise ExplorerError("bad_argument", self.field, func=func, detail=f"{k.arg} must be a number")
                out.append((k.arg, n))
            else:
                out.append((k.arg, self.build(v)))
        return tuple(out)


def _along(e) -> bool:
    """max/min along a dim: a (values, indices) pair."""
    name = e.name if isinstance(e, Method) else e.func.split(".")[1] if isinstance(e, Call) else ""
    args = e.args if isinstance(e, Method) else e.args[1:] if isinstance(e, Call) else ()
    return name in ("max", "min") and (any(k == "dim" for k, _ in e.kwargs) or
                                       bool(args) and isinstance(args[0], Num))


def _scalar_spec(value):
    return TensorSpec("tensor", (float(value),), (), None, None)


def _const(node, field):
    """torch.tensor([0, 1, 1]) or torch.ones(3) inside the loss: a constant (a target, a mask)."""
    spec = _factory(node, field)
    if spec.random:
        raise ExplorerError("not_allowed", field, what=Bi((f"torch.{spec.factory} inside the loss",
                                                            f"损失里的 torch.{spec.factory}")),
                            allowed=Bi(("Define random tensors in the tensors panel: each epoch would draw new ones.",
                                        "请在张量面板里定义随机张量:写在损失里每一轮都会重新抽取。")))
    if spec.requires_grad:
        raise ExplorerError("bad_keyword", field, name="requires_grad", func=f"torch.{spec.factory} inside the loss",
                            allowed="dtype")
    _bound_spec(spec, field)
    return Const(spec)


def _dotted(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _canonical(path: str):
    """('torch'|'F'|'loss'|'class'|'const', name) for an allowed spelling of a function, else None."""
    for prefix in ("torch.nn.functional.", "nn.functional.", "F."):
        if path.startswith(prefix) and path[len(prefix):] in LOSSES:
            return "loss", path[len(prefix):]
        if path.startswith(prefix) and path[len(prefix):] in F_FUNCTIONS:
            return "F", path[len(prefix):]
    for prefix in ("torch.nn.", "nn.", ""):
        if path.startswith(prefix) and path[len(prefix):] in CLASSES:
            return "class", path[len(prefix):]
    name = path[len("torch."):] if path.startswith("torch.") else path
    if name in FUNCTIONS and (name in BARE or path.startswith("torch.")):
        return "torch", name
    if name in FACTORIES and path.startswith("torch."):
        return "const", name
    if name in LOSSES and "." not in path:
        return "loss", name
    return None


def _literal(v, field):
    if isinstance(v, float) and not math.isfinite(v) or abs(v) > L.MAX_LITERAL:
        raise ExplorerError("literal_too_large", field, value=v, limit=f"{L.MAX_LITERAL:g}")
    return v


def _fold(op, a, b, field):
    """Arithmetic on typed numbers alone, bounded so `9 ** 9 ** 9` cannot run away."""
    if op == "@":
        raise ExplorerError("bad_argument", field, func="@", detail="needs tensors on both sides")
    try:
        r = PYOPS[op](a, b)
    except (ZeroDivisionError, OverflowError, ValueError) as e:
        raise ExplorerError("bad_argument", field, func=op, detail=f"on numbers failed: {e}") from None
    if isinstance(r, complex):
        raise ExplorerError("bad_argument", field, func=f"({a}) {op} {b}",
                            detail=Bi(("is not a real number (a negative number to a fractional power)",
                                       "不是实数(负数的非整数次幂)")))
    if abs(r) > L.MAX_CONSTANT or not math.isfinite(r):
        raise ExplorerError("literal_too_large", field, value=f"{a} {op} {b}", limit=f"{L.MAX_CONSTANT:g}")
    return r


# ---------------------------------------------------------------- tensor definitions


@dataclass(frozen=True)
class TensorSpec:
    """A validated tensor definition: `factory(*args)` or a literal, with its shape known up front."""
    factory: str                  # "tensor" for literals
    args: tuple                   # numbers, nested tuples of numbers
    shape: tuple[int, ...]
    requires_grad: bool | None = None    # as typed (requires_grad=True), None if not typed
    dtype: str | None = None             # as typed, e.g. "torch.float"

    @property
    def random(self) -> bool:
        return self.factory in ("rand", "randn")

    def source(self, requires_grad: bool = False) -> str:
        """Plain PyTorch that makes the same float32 tensor (used by export_script)."""
        args = ", ".join(_src(a) for a in self.args)
        extra = ["requires_grad=True"] if requires_grad else []
        if self.factory == "tensor":
            extra.append("dtype=torch.float")
        elif self.factory in ("arange", "full"):
            extra.append("dtype=torch.float")
        return f"torch.{self.factory}({', '.join([args] + extra) if args else ', '.join(extra)})"

    def exact(self) -> torch.Tensor:
        """As PyTorch makes it from the same text: torch.tensor([0, 1]) stays int64 (class targets)."""
        dtype = _DTYPES[self.dtype.split(":")[-1][len("torch."):]] if self.dtype else None
        if self.factory == "tensor":
            return torch.tensor(_unwrap(self.args[0]), dtype=dtype)
        return getattr(torch, self.factory)(*self.args, dtype=dtype)     # factory is from FACTORIES

    def exact_source(self) -> str:
        args = [_src(a) for a in self.args] + ([f"dtype={self.dtype.split(':')[-1]}"] if self.dtype else [])
        return f"torch.{self.factory}({', '.join(args)})"

    def make(self, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        f32 = torch.float32
        if device == "meta":
            return torch.empty(self.shape, dtype=f32, device="meta")
        if self.factory == "tensor":
            return torch.tensor(_unwrap(self.args[0]), dtype=f32)
        if self.random:
            return getattr(torch, self.factory)(*self.args, generator=generator, dtype=f32)
        return getattr(torch, self.factory)(*self.args, dtype=f32)


def _src(a):
    if isinstance(a, tuple):
        return "[" + ", ".join(_src(x) for x in a) + "]"
    return repr(a)


def _unwrap(a):
    return [_unwrap(x) for x in a] if isinstance(a, tuple) else a


_INT_DTYPES = {"int", "long", "int8", "int16", "int32", "int64", "uint8", "short", "bool"}
_DTYPES = {"float": torch.float32, "float32": torch.float32, "int": torch.int32, "long": torch.int64,
           "int8": torch.int8, "int16": torch.int16, "int32": torch.int32, "int64": torch.int64,
           "uint8": torch.uint8, "short": torch.int16, "bool": torch.bool}
_FLOAT_DTYPES = {"float", "float32"}


def parse_tensor(text: str, field: str = "tensor", name: str | None = None) -> TensorSpec:
    """Tensor text -> TensorSpec, checking size before anything is allocated."""
    tree = _parse(text, field, _TENSOR_HELP)
    if len(tree.body) != 1:
        _reject(tree.body[1] if len(tree.body) > 1 else tree, field, _TENSOR_HELP)
    stmt = tree.body[0]
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        if name is not None and stmt.targets[0].id != name:
            raise ExplorerError("name_mismatch", field, name=name, other=stmt.targets[0].id)
        node = stmt.value
    elif isinstance(stmt, ast.Expr):
        node = stmt.value
    else:
        _reject(stmt, field, _TENSOR_HELP)
    if isinstance(node, ast.Call):
        spec = _factory(node, field)
    else:
        data = _data(node, field)
        spec = TensorSpec("tensor", (data,), _data_shape(data, field))
    return _bound_spec(spec, field)


def _bound_spec(spec, field):
    count = math.prod(spec.shape)
    if len(spec.shape) > L.MAX_DIMS:
        raise ExplorerError("too_many_dims", field, what="this tensor", count=len(spec.shape), limit=L.MAX_DIMS)
    if count > L.MAX_ELEMENTS:
        raise ExplorerError("too_many_elements", field, what="this tensor", count=count, limit=L.MAX_ELEMENTS)
    return spec


def _data(node, field):
    """A nested list of numbers, as nested tuples (hashable, and its shape checked separately)."""
    if isinstance(node, (ast.List, ast.Tuple)):
        if len(node.elts) > L.MAX_ELEMENTS:
            raise ExplorerError("too_many_elements", field, what="this tensor", count=len(node.elts),
                                limit=L.MAX_ELEMENTS)
        return tuple(_data(e, field) for e in node.elts)
    return _number(node, field)


def _number(node, field):
    sign = 1
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _literal(sign * node.value, field)
    if isinstance(node, ast.Name) and node.id.startswith("_") or isinstance(node, ast.Attribute):
        raise ExplorerError("not_allowed", field, what=f"'{ast.unparse(node)[:40]}'", allowed=_TENSOR_HELP)
    if isinstance(node, ast.Name):
        raise ExplorerError("not_allowed", field, what=f"the name '{node.id}'", allowed=_TENSOR_HELP)
    _reject(node, field, _TENSOR_HELP)


def _data_shape(data, field) -> tuple[int, ...]:
    if not isinstance(data, tuple):
        return ()
    if not data:
        return (0,)
    shapes = {_data_shape(d, field) for d in data}
    if len(shapes) != 1:
        raise ExplorerError("ragged", field)
    return (len(data),) + shapes.pop()


def _factory(node: ast.Call, field) -> TensorSpec:
    path = _dotted(node.func)
    name = path[len("torch."):] if path and path.startswith("torch.") else path
    if name not in FACTORIES:
        if path and any(p.startswith("_") for p in path.split(".")):
            raise ExplorerError("not_allowed", field, what=f"'{path}'", allowed=_TENSOR_HELP)
        raise ExplorerError("unknown_function", field, name=path or ast.unparse(node.func)[:40],
                            allowed=", ".join(f"torch.{f}" for f in FACTORIES))
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        raise ExplorerError("not_allowed", field, what="*args / **kwargs", allowed=_TENSOR_HELP)
    requires_grad = dtype = None
    for k in node.keywords:
        if k.arg == "requires_grad":
            if not (isinstance(k.value, ast.Constant) and isinstance(k.value.value, bool)):
                raise ExplorerError("bad_argument", field, func=f"torch.{name}", detail="requires_grad must be True or False")
            requires_grad = k.value.value
        elif k.arg == "dtype":
            dtype = _dotted(k.value)
            short = dtype[len("torch."):] if dtype and dtype.startswith("torch.") else None
            if short in _INT_DTYPES:
                dtype = "int:" + dtype
            elif short not in _FLOAT_DTYPES:
                raise ExplorerError("bad_dtype", field, dtype=dtype or ast.unparse(k.value)[:40])
        else:
            raise ExplorerError("bad_keyword", field, name=k.arg, func=f"torch.{name}",
                                allowed="requires_grad, dtype")
    if name == "tensor":
        if len(node.args) != 1:
            raise ExplorerError("bad_argument", field, func="torch.tensor", detail="takes one list of numbers")
        data = _data(node.args[0], field)
        if requires_grad and dtype is None and _all_ints(data):
            raise ExplorerError("int_requires_grad", field, text=ast.unparse(node)[:80])
        return TensorSpec("tensor", (data,), _data_shape(data, field), requires_grad, dtype)
    args = [_data(a, field) for a in node.args]
    if name in ("ones", "zeros", "rand", "randn"):
        if not args:
            raise ExplorerError("bad_argument", field, func=f"torch.{name}", detail="needs a size like 2, 3 or (2, 3)")
        size = args[0] if len(args) == 1 and isinstance(args[0], tuple) else tuple(args)
        shape = _size(size, field, name)
        return TensorSpec(name, (shape,) if len(args) == 1 and isinstance(args[0], tuple) else shape,
                          shape, requires_grad, dtype)
    if name == "full":
        if len(args) != 2 or not isinstance(args[0], tuple) or isinstance(args[1], tuple):
            raise ExplorerError("bad_argument", field, func="torch.full", detail="takes a size like (2, 3) and a number")
        return TensorSpec(name, (_size(args[0], field, name), args[1]), _size(args[0], field, name),
                          requires_grad, dtype)
    if any(isinstance(a, tuple) for a in args):
        raise ExplorerError("bad_argument", field, func=f"torch.{name}", detail="takes numbers only")
    if name == "eye":
        if not 1 <= len(args) <= 2:
            raise ExplorerError("bad_argument", field, func="torch.eye", detail="takes n or n, m")
        shape = _size(tuple(args) if len(args) == 2 else (args[0], args[0]), field, name)
        return TensorSpec(name, tuple(int(a) for a in args), shape, requires_grad, dtype)
    if name == "arange":
        if not 1 <= len(args) <= 3:
            raise ExplorerError("bad_argument", field, func="torch.arange", detail="takes end, or start, end[, step]")
        start, end, step = (0, args[0], 1) if len(args) == 1 else (args[0], args[1], args[2] if len(args) == 3 else 1)
        if step == 0 or (end - start) * step < 0:
            raise ExplorerError("bad_argument", field, func="torch.arange",
                                detail="step must not be 0 and must go from start towards end")
        n = (end - start) / step
        n = max(0, math.ceil(n)) if math.isfinite(n) else math.inf
        if n > L.MAX_ELEMENTS:
            raise ExplorerError("too_many_elements", field, what="this tensor", count=n, limit=L.MAX_ELEMENTS)
        shape = tuple(torch.arange(*args).shape)     # bounded above; torch decides the exact count
        return TensorSpec(name, tuple(args), shape, requires_grad, dtype)
    if len(args) != 3 or not float(args[2]).is_integer() or args[2] < 0:    # linspace
        raise ExplorerError("bad_argument", field, func="torch.linspace", detail="takes start, end, steps")
    return TensorSpec(name, (args[0], args[1], int(args[2])), _size((args[2],), field, name), requires_grad, dtype)


def _all_ints(data) -> bool:
    """Whole numbers written without a decimal point: torch.tensor makes them int64, which cannot
    require gradients."""
    if isinstance(data, tuple):
        return all(_all_ints(d) for d in data)
    return isinstance(data, int) and not isinstance(data, bool)


def _size(size, field, func) -> tuple[int, ...]:
    if len(size) > L.MAX_DIMS:
        raise ExplorerError("too_many_dims", field, what="this tensor", count=len(size), limit=L.MAX_DIMS)
    if not all(not isinstance(s, tuple) and float(s).is_integer() and s >= 0 for s in size):
        raise ExplorerError("bad_argument", field, func=f"torch.{func}", detail="sizes must be whole numbers >= 0")
    shape = tuple(int(s) for s in size)
    count = math.prod(shape) or max(shape, default=0)      # torch(0, 1e9, 1e9) still overflows its strides
    if count > L.MAX_ELEMENTS:
        raise ExplorerError("too_many_elements", field, what="this tensor", count=count, limit=L.MAX_ELEMENTS)
    return shape


# ---------------------------------------------------------------- interpretation

# AssertionError: some of torch's meta decompositions check their arguments with assert (F.nll_loss of a 2-D target)
TORCH_ERRORS = (RuntimeError, IndexError, ValueError, TypeError, OverflowError, ZeroDivisionError, AssertionError)
_PAIRWISE = {"+", "-", "*", "/", "**"}


class Evaluator:
    """Interprets a Program on tensors. With `check=True` (the dry run on the meta device) every
    value's size is bounded, broadcasting that grows both operands is reported, and the forward
    pass is sized for `budget`: `ops` op calls, `elements` element-operations (each op's inputs and
    output, and what it does inside), `flops` matrix products' multiply-adds, and `bytes` what it holds
    (its values, which autograd may save, and what an op makes inside, from its entry in the op table).
    `keep=True` remembers every value computed, for the graph, and which of them were detached.
    `floats=torch.float64` makes the floating constants typed in the loss in that dtype, so a program
    run on float64 weights (the gradient check) does not meet a float32 target; integer class targets
    stay integer."""

    def __init__(self, field: str = "loss", check: bool = False, keep: bool = False,
                 floats: torch.dtype | None = None):
        self.field, self.check, self.keep, self.floats = field, check, keep, floats
        self.notes: list[tuple[str, dict]] = []
        self.values: list[torch.Tensor] = []
        self.detached: dict[int, tuple] = {}      # id -> (tensor, its source): values cut from the graph
        self.cuts: list[tuple] = []               # (value computed, detached input, source of that input)
        self.ops = 0
        self.unbatched = 0                        # ops torch.func.vmap runs once per point of a batch
        self.elements = 0
        self.batched = 0                          # element-operations as a vmap batch weighs them, per point
        self.rows = 0                             # rows of row-wise ops (softmax): a vmap batch pays per row
        self.flops = 0
        self.bytes = 0
        self._mine = [0]                          # element-operations of the op being sized, innermost last

    def run(self, program: Program, env: dict) -> tuple[torch.Tensor, dict]:
        env = dict(env)
        named = {}
        for name, expr in program.lines:
            env[name] = named[name] = self.calc(expr, env)
            hit = self.detached.get(id(env[name]))
            if hit is not None and hit[0] is env[name]:
                self.detached[id(hit[0])] = (hit[0], f"{name} = {hit[1]}")
        return env[program.loss_name], named

    def calc(self, e, env):
        t = type(e)
        if t is Ref:
            return env[e.name]
        if t is Num or t is Str:
            return e.value
        if t is tuple:
            return tuple(self.calc(x, env) for x in e)
        if t is Seq:
            return [self.calc(x, env) for x in e.items]
        self._mine.append(0)
        try:
            out = self._calc(e, env)
        except ExplorerError:
            raise
        except TORCH_ERRORS as err:
            raise ExplorerError("op_failed", self.field, op=_describe(e), detail=clean_error(err)) from None
        finally:
            mine = self._mine.pop()
        made = (out,) if isinstance(out, torch.Tensor) else \
            out if isinstance(out, tuple) and out and all(isinstance(x, torch.Tensor) for x in out) else ()
        if self.check and made:                          # a tensor, or max/min's (values, indices)
            op = _op_of(e)
            own = mine
            for x in made:
                self._bound(x, e)
                own += x.numel()
                self.bytes += x.numel() * x.element_size()
            self.ops += 1
            self.unbatched += op is not None and not op.batched
            self.elements += round(own * (op.weight if op is not None else 1.0))
            self.batched += round(own * (op.batch_weight or op.weight if op is not None else 1.0))
        if isinstance(out, torch.Tensor):
            if self.keep:
                self.values.append(out)
                if t is Method and e.name == "detach":
                    self.detached[id(out)] = (out, to_source(e))
                elif self.detached.get(id(out), (None, ""))[1] is None:
                    self.detached[id(out)] = (out, f"{to_source(e)} (detached)")
        return out

    def _calc(self, e, env):
        t = type(e)
        if t is BinOp:
            a, b = self.calc(e.left, env), self.calc(e.right, env)
            _no_module(a, self.field)
            _no_module(b, self.field)
            if self.check:
                self._check_pair(e.op, a, b)
                self._read(a, b)
            return self._cut(PYOPS[e.op](a, b), a, b)
        if t is Unary:
            v = self.calc(e.operand, env)
            _no_module(v, self.field)
            return self._cut(-v if e.op == "-" else +v, v)
        if t is Call:
            args = [self.calc(a, env) for a in e.args]
            kwargs = {k: self.calc(v, env) for k, v in e.kwargs}
            for v in (*args, *kwargs.values()):
                _no_module(v, self.field, e.func)
            kind, name = e.func.split(".")
            if kind == "F" and name in LOSSES:
                return self._loss(name, args, kwargs, e.func)
            return self._op(OPS[name], (F_FUNCTIONS if kind == "F" else FUNCTIONS)[name], args, kwargs,
                            f"in {e.func}")
        if t is Method:
            obj = self.calc(e.obj, env)
            _no_module(obj, self.field, f".{e.name}()")
            if not isinstance(obj, torch.Tensor):
                raise ExplorerError("not_a_tensor", self.field, what=f"a number (before .{e.name}())")
            args = [self.calc(a, env) for a in e.args]
            kwargs = {k: self.calc(v, env) for k, v in e.kwargs}
            for v in (*args, *kwargs.values()):
                _no_module(v, self.field, f".{e.name}()")
            return self._op(OPS[e.name], METHOD_FNS[e.name], [obj] + args, kwargs, f"before .{e.name}()")
        if t is Attr:
            obj = self.calc(e.obj, env)
            _no_module(obj, self.field, f".{e.name}")
            if e.name in _PAIRS:
                return obj[_PAIRS.index(e.name)]
            if not isinstance(obj, torch.Tensor):
                raise ExplorerError("not_a_tensor", self.field, what=f"a number (before .{e.name})")
            return obj.T if e.name == "T" else obj.mT
        if t is Index:
            obj = self.calc(e.obj, env)
            _no_module(obj, self.field, "[ ]")
            if not isinstance(obj, torch.Tensor):
                raise ExplorerError("not_a_tensor", self.field, what="a number (before [ ])")
            return self._cut(obj[tuple(slice(i.start, i.stop, i.step) if isinstance(i, Slice) else i
                                       for i in e.items)], obj)
        if t is Const:
            c = e.spec.exact()
            if self.floats is not None and c.is_floating_point():
                c = c.to(self.floats)
            return c.to("meta") if self.check else c
        if t is LossModule:
            return e
        if t is Apply:
            module = e.module if isinstance(e.module, LossModule) else env[e.module.name]
            kwargs = {k: self.calc(v, env) for k, v in module.kwargs}
            args, name = [self.calc(a, env) for a in e.args], CLASSES[module.cls]
            for v in (*args, *kwargs.values()):
                _no_module(v, self.field, f"torch.nn.{module.cls}()")
            if name not in LOSSES:
                return self._op(OPS[name], F_FUNCTIONS[name], args, kwargs, f"in nn.{module.cls}()")
            return self._loss(name, args, kwargs, f"nn.{module.cls}()")
        raise ExplorerError("not_allowed", self.field, what=type(e).__name__, allowed=_LOSS_HELP)

    def _op(self, op, fn, args, kwargs, where):
        """One entry of the op table: its first argument checked, its inside sized, then the call."""
        first = args[0]
        if not (all(isinstance(x, torch.Tensor) for x in first) if op.tensors else isinstance(first, torch.Tensor)):
            raise ExplorerError("not_a_tensor", self.field, what=f"a number ({where})")
        if self.check:
            inputs = (list(first) if op.tensors else [first]) + args[1:] + list(kwargs.values())
            self._read(*inputs)
            self._inside(check_inside(op, self.field, args, kwargs))
        return self._cut(fn(*args, **kwargs), *(list(first) if op.tensors else [first]), *args[1:],
                         *kwargs.values())

    def _cut(self, out, *inputs):
        """Remember where a detached value met the graph again: the graph shows the gradient path cut
        there. A constant computed from a detached value is detached too (`d * 2`)."""
        if self.detached and isinstance(out, torch.Tensor):
            for x in inputs:
                hit = self.detached.get(id(x))
                if hit is not None and hit[0] is x:
                    if out.requires_grad:
                        self.cuts.append((out, x, hit[1]))
                    else:
                        self.detached[id(out)] = (out, None)      # calc names it
        return out

    def _loss(self, name, args, kwargs, shown):
        if not all(isinstance(a, torch.Tensor) for a in args):
            raise ExplorerError("not_a_tensor", self.field, what=f"a number (in {shown})")
        if self.check:
            if args[0].shape != args[1].shape and not _class_targets(name, *args):
                raise ExplorerError("loss_shape_mismatch", self.field, op=shown, left=tuple(args[0].shape),
                                    right=tuple(args[1].shape))
            self._read(*args)
            self.bytes += args[0].numel() * args[0].element_size()     # the elementwise loss before reduction
            if name == "cross_entropy" and args[0].dim() > 1:          # a log_softmax over each row first
                self.rows += args[0].numel() // max(1, args[0].shape[1])
        return self._cut(LOSSES[name](*args, **kwargs), *args)

    def _check_pair(self, op, a, b):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
            if op == "@":
                raise ExplorerError("bad_argument", self.field, func="@ / matmul", detail="needs tensors on both sides")
            return
        sa, sb = tuple(a.shape), tuple(b.shape)
        if op == "@":
            self._inside(check_inside(OPS["matmul"], self.field, (a, b)))
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
            raise ExplorerError("too_many_elements", self.field, what=_describe(e), count=n, limit=L.MAX_INTERMEDIATE)
        if t.dim() > L.MAX_DIMS:
            raise ExplorerError("too_many_dims", self.field, what=_describe(e), count=t.dim(), limit=L.MAX_DIMS)


def _op_of(e):
    """The op table's row for this node, where it has one (for its cost)."""
    t = type(e)
    if t is BinOp:
        return OPS.get("matmul" if e.op == "@" else e.op)
    if t is Call:
        return OPS.get(e.func.split(".")[1])
    if t is Method:
        return OPS.get(e.name)
    if t is Apply and isinstance(e.module, LossModule):
        return OPS.get(CLASSES[e.module.cls])
    return None


def _class_targets(name, z, y) -> bool:
    """cross_entropy and nll_loss take class indices: a whole-number target without the class dimension."""
    if name not in ("cross_entropy", "nll_loss") or y.is_floating_point():
        return False
    return tuple(y.shape) == (tuple(z.shape[:1]) + tuple(z.shape[2:]) if z.dim() > 1 else ())


def _no_module(v, field, func: str | None = None) -> None:
    """A loss module is only ever called: anywhere else torch would name our class in its message."""
    for x in v if isinstance(v, (list, tuple)) else (v,):
        if isinstance(x, LossModule):
            what = (Bi((f"torch.nn.{x.cls}() in arithmetic", f"torch.nn.{x.cls}() 参与算术运算")) if func is None else
                    Bi((f"torch.nn.{x.cls}() where a tensor is expected ({func})",
                        f"把 torch.nn.{x.cls}() 当作张量({func} 处)")))
            raise ExplorerError("not_allowed", field, what=what,
                                allowed=Bi((f"Call it on two tensors first, like torch.nn.{x.cls}()(z, y).",
                                            f"请先用两个张量调用它,例如 torch.nn.{x.cls}()(z, y)。")))


def compile_program(program: Program):
    """The training fast path: the tree turned once into nested closures, with no per-op checks
    (the meta dry run already made them). Same torch calls, same order as `Evaluator`."""
    steps = tuple((name, _closure(expr)) for name, expr in program.lines)
    loss_name = program.loss_name

    def forward(env: dict):
        env = dict(env)
        for name, f in steps:
            env[name] = f(env)
        return env[loss_name]
    return forward


def _closure(e):
    t = type(e)
    if t is Num or t is Str:
        v = e.value
        return lambda env: v
    if t is Ref:
        return operator.itemgetter(e.name)
    if t is BinOp:
        f, left, right = PYOPS[e.op], _closure(e.left), _closure(e.right)
        if type(e.right) is Num:
            v = e.right.value
            return lambda env: f(left(env), v)
        if type(e.left) is Num:
            v = e.left.value
            return lambda env: f(v, right(env))
        return lambda env: f(left(env), right(env))
    if t is Unary:
        f, x = (operator.neg if e.op == "-" else operator.pos), _closure(e.operand)
        return lambda env: f(x(env))
    if t is LossModule:
        return lambda env: e
    if t is tuple:
        parts = tuple(_closure(x) for x in e)
        return lambda env: tuple(p(env) for p in parts)
    if t is Seq:
        parts = tuple(_closure(x) for x in e.items)
        return lambda env: [p(env) for p in parts]
    if t is Const:
        c = e.spec.exact()
        return lambda env: c
    if t is Call or t is Method or t is Apply:
        if t is Call:
            kind, name = e.func.split(".")
            fn = LOSSES[name] if kind == "F" and name in LOSSES else (F_FUNCTIONS if kind == "F" else FUNCTIONS)[name]
            args, kwargs = (_closure(a) for a in e.args), e.kwargs
        elif t is Method:
            fn = METHOD_FNS[e.name]
            args, kwargs = (_closure(a) for a in (e.obj,) + e.args), e.kwargs
        else:
            module = e.module
            if type(module) is Ref:
                return _apply_ref(module.name, tuple(_closure(a) for a in e.args))
            fn = _module_fn(module.cls)
            args, kwargs = (_closure(a) for a in e.args), module.kwargs
        args = tuple(args)
        kw = tuple((k, _closure(v)) for k, v in kwargs)
        if kw:
            return lambda env: fn(*[a(env) for a in args], **{k: v(env) for k, v in kw})
        if len(args) == 1:
            a0 = args[0]
            return lambda env: fn(a0(env))
        if len(args) == 2:
            a0, a1 = args
            return lambda env: fn(a0(env), a1(env))
        return lambda env: fn(*[a(env) for a in args])
    if t is Attr:
        x = _closure(e.obj)
        if e.name in _PAIRS:
            i = _PAIRS.index(e.name)
            return lambda env: x(env)[i]
        return (lambda env: x(env).T) if e.name == "T" else (lambda env: x(env).mT)
    if t is Index:
        x = _closure(e.obj)
        idx = tuple(slice(i.start, i.stop, i.step) if isinstance(i, Slice) else i for i in e.items)
        return lambda env: x(env)[idx]
    raise TypeError(t)


def _apply_ref(name, args):
    """`loss_fn(z, y)` where an earlier line said `loss_fn = torch.nn.MSELoss()`."""
    def call(env):
        module = env[name]
        kwargs = {k: v.value for k, v in module.kwargs}
        return _module_fn(module.cls)(*[a(env) for a in args], **kwargs)
    return call


def _module_fn(cls):
    name = CLASSES[cls]
    return LOSSES[name] if name in LOSSES else F_FUNCTIONS[name]


def _describe(e) -> str:
    if isinstance(e, BinOp):
        return f"'{e.op}'"
    if isinstance(e, Call):
        return e.func
    if isinstance(e, Method):
        return f".{e.name}()"
    if isinstance(e, Apply):
        return "the loss function"
    if isinstance(e, Index):
        return "indexing [ ]"
    if isinstance(e, Unary):
        return f"'{e.op}'"
    if isinstance(e, Attr):
        return f".{e.name}"
    if isinstance(e, Const):
        return f"torch.{e.spec.factory}"
    return "this expression"


# Where in torch's C++ a message was raised: `[enforce fail at alloc_cpu.cpp:127] data. `, a bare
# `name.cpp:123` or a path to one, with or without `/`; and the allocator's class before its words.
_SOURCE_PATH = re.compile(r"\[enforce fail at [^\]]*\]\s*(?:[^\s.]*\.\s+)?|\s*\(Triggered internally at [^)]*\)"
                          r"|(?:\s+at)?\s*\(?[^\s()]*\.(?:cpp|cc|cxx|c|h|hpp|cu|cuh|py):\d+(?::\d+)?\)?:?"
                          r"|\b\w*Allocator:\s*")
# Our own classes, should torch ever be handed one and name it: the student never typed them.
_OURS = re.compile(r"\b(?:LossModule|Num|Str|Ref|Unary|BinOp|Call|Method|Attr|Seq|Const|Slice|Index|Apply|"
                   r"Program|TensorSpec|Evaluator|_Expr)\b(?=[,)=\]]|'?\s*object)")


def clean_error(err) -> str:
    """torch's message, first line, without the C++ source locations it sometimes carries and
    without the names of our own classes."""
    msg = _SOURCE_PATH.sub(" ", str(err).split("\n")[0])
    msg = _OURS.sub("expression", re.sub(r"\s+", " ", msg)).strip()
    return msg[:200]


# ---------------------------------------------------------------- back to text


_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "**": 4}
_PREC.update({op: 0 for op in COMPARE.values()})


def to_source(e, prec: int = 0) -> str:
    """Plain PyTorch source for a tree: used by export_script, so it must mean exactly the same."""
    t = type(e)
    if t is Num:
        negative = math.copysign(1, e.value) < 0         # -0.0 too: (-0.0) ** w is not -(0.0 ** w)
        return f"({e.value!r})" if negative and prec >= 3 else repr(e.value)
    if t is Str:
        return repr(e.value)
    if t is Ref:
        return e.name
    if t is Unary:
        s = e.op + to_source(e.operand, 3)
        return f"({s})" if prec > 3 else s
    if t is BinOp:
        p = _PREC[e.op]
        if p == 0:
            s = f"{to_source(e.left, 1)} {e.op} {to_source(e.right, 1)}"
            return f"({s})" if prec > 0 else s
        if e.op == "**":
            s = f"{to_source(e.left, p + 1)} ** {to_source(e.right, p)}"
        else:
            s = f"{to_source(e.left, p)} {e.op} {to_source(e.right, p + 1)}"
        return f"({s})" if p < prec else s
    if t is Call:
        return f"{e.func}({_args_src(e.args, e.kwargs)})"
    if t is Method:
        return f"{to_source(e.obj, 5)}.{e.name}({_args_src(e.args, e.kwargs)})"
    if t is Attr:
        return f"{to_source(e.obj, 5)}.{e.name}"
    if t is Seq:
        return "[" + ", ".join(to_source(x) for x in e.items) + "]"
    if t is Const:
        return e.spec.exact_source()
    if t is Index:
        items = ", ".join(str(i) if not isinstance(i, Slice) else
                          ":".join("" if p is None else str(p) for p in (i.start, i.stop)) +
                          (f":{i.step}" if i.step is not None else "") for i in e.items)
        return f"{to_source(e.obj, 5)}[{items or '()'}]"
    if t is LossModule:
        return f"torch.nn.{e.cls}({_args_src((), e.kwargs)})"
    if t is Apply:
        return f"{to_source(e.module, 5)}({_args_src(e.args, ())})"
    raise TypeError(t)


def _args_src(args, kwargs) -> str:
    parts = [to_source(a) if not isinstance(a, tuple) else _tuple_src(a) for a in args]
    return ", ".join(parts + [f"{k}={to_source(v)}" for k, v in kwargs])


def _tuple_src(items) -> str:
    """A tuple of sizes as Python writes it: (), (3,), (2, 3)."""
    inner = ", ".join(to_source(x) for x in items)
    return f"({inner},)" if len(items) == 1 else f"({inner})"
