"""Loss text -> a Program, through an allow-list walk of Python's `ast`: never executed.

Anything not on the list is rejected by name. A call is resolved to a row of the op table by its
spelling (torch.f, F.f, torch.linalg.f, x.f(), x.f_() in place, a bare course spelling), and its
arguments are bound to PyTorch's own parameter names, each checked for the kind of value it takes.
"""
from __future__ import annotations

import ast

from .. import limits as L
from ..errors import Bi, ExplorerError
from .nodes import (PAIRS, Apply, Attr, Axis, BinOp, Call, Const, DType, Index, LossModule, Method, Num, Ref, Seq,
                    Slice, Str, Unary, transform)
from .op import REFUSED
from .ops import ATTRS, IN_PLACE, METHOD_FNS, MODULES, OPS
from .program import AugAssign, Program, Stmt
from .sizing import MAX_OPERANDS, check_equation
from .tensors import constant, scalar_spec
from .text import (FACTORIES, LOSS_HELP, READABLE, check_name, dotted, fold, literal, parse_text, reject)

BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
PART_METHODS = {ast.Add: "add_", ast.Sub: "sub_", ast.Mult: "mul_", ast.Div: "div_"}    # y[i] op= v
COMPARE = {ast.Gt: ">", ast.Lt: "<", ast.GtE: ">=", ast.LtE: "<=", ast.Eq: "=="}
METHODS = tuple(METHOD_FNS) + tuple(IN_PLACE)
# What a course's training loop does around the loss, which the app does itself: each gets its own lesson.
APP_DOES = {"backward": "backward_by_app", "grad": "grad_on_graph", "zero_": "zero_grad_by_app",
            "zero_grad": "zero_grad_by_app", "step": "step_by_app"}
LEAVES_GRAPH = ("item", "numpy", "tolist")    # they turn a tensor into plain Python numbers: a lesson each
CONVERSIONS = {"float", "float32", "long", "int64", "int", "int32", "bool"}
_TORCH = ("torch", "F", "nn")


def _not_allowed(field, what, allowed=LOSS_HELP):
    raise ExplorerError("not_allowed", field, what=what, allowed=allowed)


def parse_loss(text: str, field: str = "loss", known: tuple[str, ...] = ()) -> Program:
    """Loss text -> Program. `known` are the tensor names; each line may only use names defined before it."""
    tree = parse_text(text, field, LOSS_HELP)
    walk = _Expr(field, set(known))
    lines = []
    for i, stmt in enumerate(tree.body):
        last = i == len(tree.body) - 1
        if isinstance(stmt, ast.Assign):
            if len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Subscript):
                raise ExplorerError("part_assign", field)
            if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
                reject(stmt.targets[0] if len(stmt.targets) == 1 else stmt, field)
            name = _line_name(stmt.targets[0].id, field, known)
            expr = walk.build(stmt.value)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Subscript):
            name, expr = walk.augment_part(stmt)
        elif isinstance(stmt, ast.AugAssign):
            name, expr = walk.augment(stmt)
        elif isinstance(stmt, ast.Expr):
            expr = walk.build(stmt.value)                # loss.sum().backward() pasted from the course: its lesson
            name = "loss" if last else walk.changed(expr)
            if not last:
                expr = Stmt(expr, name)
        else:
            reject(stmt, field)
        walk.defines(name, expr)
        lines.append((name, expr))
    if isinstance(lines[-1][1], LossModule):
        raise ExplorerError("loss_not_tensor", field)
    program = Program(tuple(lines))
    if program.inplace:                                  # a constant changed in place is made anew each epoch
        program = Program(transform(program.lines, lambda e: Const(e.spec, True) if type(e) is Const else e))
    return program


def _on_grad(node) -> bool:
    """Whether an attribute chain goes through `.grad` (w.grad, w.grad.data): what a course zeroes."""
    while isinstance(node, ast.Attribute):
        if node.attr == "grad":
            return True
        node = node.value
    return False


def _line_name(name, field, known):
    if name.startswith("_"):
        _not_allowed(field, f"the name '{name}'")
    check_name(name, field)
    if name in known:
        raise ExplorerError("reserved_name", field, name=name)
    return name


class _Expr:
    """One allow-list walk over the ast of a loss, producing the tree of nodes.py."""

    def __init__(self, field, defined):
        self.field, self.defined = field, defined
        self.modules: dict[str, LossModule] = {}     # names of lines holding a loss module
        self.consts: dict[str, Num] = {}             # names of lines holding a typed number (folded where used)
        self.numbers: set[str] = set()               # names of lines holding a size (a number known when run)
        self.pair = False

    def defines(self, name, expr):
        self.modules.pop(name, None)
        self.consts.pop(name, None)
        self.numbers.discard(name)
        if isinstance(expr, LossModule):
            self.modules[name] = expr
        elif type(expr) is Num:
            self.consts[name] = expr
        elif self.is_number(expr):
            self.numbers.add(name)
        self.defined.add(name)

    def build(self, node):
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            reject(node, self.field)
        return method(node)

    def is_number(self, e) -> bool:
        """Whether `e` is a Python number when run: typed, a size (len(x), x.shape[0]), or arithmetic on them."""
        if type(e) is Num:
            return True
        if isinstance(e, Ref):
            return e.name in self.numbers
        if isinstance(e, (Call, Method)) or isinstance(e, Attr) and e.name == "ndim":
            return e.row.number
        if isinstance(e, Index):
            return isinstance(e.obj, Attr) and e.obj.name == "shape"
        if isinstance(e, BinOp) and e.op not in (">", "<", ">=", "<=", "=="):
            return self.is_number(e.left) and self.is_number(e.right)
        return isinstance(e, Unary) and self.is_number(e.operand)

    # ------------------------------------------------------------ statements

    def augment(self, stmt):
        """`y += expr`: y's own tensor is changed (a typed number is folded, as Python rebinds it)."""
        if not isinstance(stmt.target, ast.Name):
            reject(stmt, self.field)
        name, op = stmt.target.id, BINOPS.get(type(stmt.op))
        if op is None:
            _not_allowed(self.field, f"the operator {type(stmt.op).__name__}=")
        if name.startswith("_"):
            _not_allowed(self.field, f"the name '{name}'")
        if name in self.modules:
            self._module_as_value(name)
        if name not in self.defined and name not in self.consts:
            raise ExplorerError("unknown_name", self.field, name=name, known=", ".join(sorted(self.defined)) or "-")
        value = self.build(stmt.value)
        if name in self.consts and type(value) is Num:
            self.consts[name] = Num(fold(op, self.consts[name].value, value.value, self.field))
        return name, AugAssign(name, op, value)

    def augment_part(self, stmt):
        """`y[i] += expr`: PyTorch changes that part of y's tensor in place, and autograd records it on the
        whole (CopySlices). It is `y[i].add_(expr)` (sub_, mul_, div_), so it is read as that call: the same
        walk, checks and sizing as the in-place method, and the line still prints as it was typed."""
        method = PART_METHODS.get(type(stmt.op))
        if method is None:
            raise ExplorerError("part_op", self.field, op=BINOPS.get(type(stmt.op), type(stmt.op).__name__))
        target = ast.copy_location(ast.Subscript(value=stmt.target.value, slice=stmt.target.slice, ctx=ast.Load()),
                                   stmt.target)
        call = ast.copy_location(ast.Call(func=ast.Attribute(value=target, attr=method, ctx=ast.Load()),
                                          args=[stmt.value], keywords=[]), stmt)
        expr = self.build(ast.fix_missing_locations(call))
        name = self.changed(expr)
        return name, Stmt(expr, name, op=BINOPS[type(stmt.op)])

    def changed(self, expr) -> str:
        """A line that is only an in-place call keeps the name of what it changes; any other is refused."""
        name = expr.target_name() if expr.inplace else ""
        if not name:
            _not_allowed(self.field, READABLE["Expr"])
        return name

    # ------------------------------------------------------------ expressions

    def _Constant(self, node):
        if type(node.value) not in (int, float):
            _not_allowed(self.field, f"the value {node.value!r:.40}")
        return Num(literal(node.value, self.field))

    def _Name(self, node):
        name = node.id
        if name.startswith("_"):
            _not_allowed(self.field, f"the name '{name}'")
        if name in self.consts:                          # `e = 9` then `e ** e`: bounded as if typed
            return self.consts[name]
        if name in self.modules:
            self._module_as_value(name)
        if name in self.defined:
            return Ref(name)
        if name in _TORCH:
            _not_allowed(self.field, f"the module '{name}' on its own")
        raise ExplorerError("unknown_name", self.field, name=name, known=", ".join(sorted(self.defined)) or "-")

    def _module_as_value(self, name):
        _not_allowed(self.field, f"using the loss function '{name}' as a value",
                     Bi((f"Call it, like {name}(z, y).", f"请调用它,例如 {name}(z, y)。")))

    def _UnaryOp(self, node):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            reject(node, self.field)
        operand = self.build(node.operand)
        op = "-" if isinstance(node.op, ast.USub) else "+"
        if type(operand) is Num:
            return Num(-operand.value if op == "-" else operand.value)
        return Unary(op, operand)

    def _BinOp(self, node):
        op = BINOPS.get(type(node.op))
        if op is None:
            _not_allowed(self.field, f"the operator {type(node.op).__name__}")
        left, right = self.build(node.left), self.build(node.right)
        if op == "**" and type(right) is Num and abs(right.value) > L.MAX_EXPONENT:
            raise ExplorerError("exponent_too_large", self.field, value=right.value, limit=L.MAX_EXPONENT)
        if type(left) is Num and type(right) is Num:
            return Num(fold(op, left.value, right.value, self.field))
        return BinOp(op, left, right)

    def _Compare(self, node):
        """`w > 0` is a mask (a bool tensor, no gradient) for where(), indexing and arithmetic."""
        if len(node.ops) != 1:
            _not_allowed(self.field, Bi(("a chained comparison", "连写的比较")),
                         Bi(("Compare two values at a time, like (w > 0) * (w < 1).", "一次只比较两个值,例如 (w > 0) * (w < 1)。")))
        op = COMPARE.get(type(node.ops[0]))
        if op is None:
            reject(node, self.field)
        left, right = self.build(node.left), self.build(node.comparators[0])
        if type(left) is Num and type(right) is Num:
            return Num(fold(op, left.value, right.value, self.field))
        return BinOp(op, left, right)

    def _Subscript(self, node):
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if isinstance(node.value, ast.Attribute) and node.value.attr == "shape":
            if len(items) != 1:
                raise ExplorerError("bad_argument", self.field, func=".shape[ ]", detail="takes one dimension, like z.shape[0]")
            return Index(Attr(self.build(node.value.value), "shape"), (self.int(items[0], "an index"),))
        obj = self.build(node.value)
        axes = sum(isinstance(i, ast.Constant) and (i.value is None or i.value is Ellipsis) for i in items)
        if len(items) - axes > L.MAX_DIMS or len(items) > 2 * L.MAX_DIMS:
            raise ExplorerError("too_many_dims", self.field, what="this index", count=len(items), limit=L.MAX_DIMS)
        return Index(obj, tuple(self._item(i) for i in items))

    def _item(self, it):
        """One item of an index: a whole number, a slice, None, ..., a list of whole numbers, or a tensor
        (a mask such as z > 0, or class indices)."""
        if isinstance(it, ast.Slice):
            return Slice(*(None if p is None else self.int(p, "an index") for p in (it.lower, it.upper, it.step)))
        if isinstance(it, ast.Constant) and (it.value is None or it.value is Ellipsis):
            return Axis(it.value)
        if isinstance(it, ast.List):
            return Seq(tuple(self.int(x, "an index") for x in it.elts))
        e = self.build(it)
        if type(e) is Num and (isinstance(e.value, bool) or not float(e.value).is_integer()):
            raise ExplorerError("bad_argument", self.field, func="an index", detail="must be a whole number")
        return Num(int(e.value)) if type(e) is Num else e

    def int(self, node, what):
        """A whole number: typed, or a size such as len(x) (checked when run)."""
        v = self.build(node)
        if self.is_number(v) and type(v) is not Num:
            return v
        if type(v) is not Num or isinstance(v.value, bool) or not float(v.value).is_integer():
            raise ExplorerError("bad_argument", self.field, func=what, detail="must be a whole number")
        return Num(int(v.value))

    def _Attribute(self, node):
        path = dotted(node)
        if path is not None and path.split(".")[0] in _TORCH:
            _not_allowed(self.field, f"'{path}' without calling it")
        self._lessons(node.attr, node.value)
        if node.attr in PAIRS:
            self.pair = isinstance(node.value, ast.Call)
            inner = self.build(node.value)
            self.pair = False
            if not (isinstance(inner, (Call, Method)) and inner.row.pair and
                    self.along(inner.row.bind(inner.all_args(), dict(inner.kwargs)))):
                raise ExplorerError("values_need_dim", self.field, name=node.attr)
            return Attr(inner, node.attr)
        if node.attr == "shape":
            raise ExplorerError("bad_argument", self.field, func=".shape",
                                detail=Bi(("gives a torch.Size here; use one dimension, like z.shape[0] or z.size(0)",
                                           "在这里是一个 torch.Size;请取其中一维,例如 z.shape[0] 或 z.size(0)")))
        if node.attr not in ATTRS:
            self._unknown_method(node.attr)
        return Attr(self.build(node.value), node.attr)

    def _lessons(self, name, obj=None):
        if name.startswith("_"):
            _not_allowed(self.field, f"the attribute '.{name}'")
        if name == "zero_" and not _on_grad(obj):
            raise ExplorerError("zero_tensor", self.field)        # h.zero_() is not zeroing a gradient
        if name in APP_DOES:
            raise ExplorerError(APP_DOES[name], self.field)
        if name in LEAVES_GRAPH:
            raise ExplorerError("leaves_graph", self.field, name=name)

    def _unknown_method(self, name):
        raise ExplorerError("unknown_method", self.field, name=name,
                            allowed=", ".join(METHODS + tuple(a for a in ATTRS if a != "shape") + PAIRS +
                                              ("shape[d]",)))

    def _Call(self, node):
        pair, self.pair = self.pair, False
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            _not_allowed(self.field, "*args / **kwargs")
        f = node.func
        path = dotted(f)
        if path is not None and "." not in path and path in self.modules:      # loss_fn(z, y)
            return self._apply(Ref(path), node, self.modules[path])
        if path is not None and "." not in path and path in self.defined:
            _not_allowed(self.field, f"calling '{path}' (it is a tensor)")
        if path is not None and ("." not in path or path.split(".")[0] in _TORCH):
            return self._function(path, node, pair)
        if isinstance(f, ast.Call):                      # torch.nn.MSELoss()(z, y)
            module = self.build(f)
            if isinstance(module, LossModule):
                return self._apply(module, node, None)
        if isinstance(f, ast.Attribute):                 # (expr).method(...)
            return self._method(f.value, f.attr, node, pair)
        reject(f, self.field)

    def _function(self, path, node, pair):
        name = path.rpartition(".")[2]
        if any(p.startswith("_") for p in path.split(".")):
            _not_allowed(self.field, f"'{path}'")
        cls = next((path[len(x):] for x in ("torch.nn.", "nn.", "")
                    if path.startswith(x) and path[len(x):] in MODULES), None)
        if cls is not None:
            row = MODULES[cls]
            if node.args:
                raise ExplorerError("bad_argument", self.field, func=f"{cls}()",
                                    detail="takes only keyword arguments such as reduction='mean'")
            allowed = row.module_keywords if row.module_keywords is not None else row.keywords
            return LossModule(cls, tuple(self._keyword(row, k, allowed, f"{cls}()") for k in node.keywords))
        if name in FACTORIES and path == f"torch.{name}":
            return Const(constant(node, self.field))
        found = _resolve(path)
        if found is None:
            raise ExplorerError("unknown_function", self.field, name=path, allowed=", ".join(SPELLED))
        func, row, spelling = found
        args, kwargs = self._arguments(row, node, spelling, func, pair)
        inplace = any(k == "inplace" and type(v) is Num and v.value for k, v in kwargs)
        return Call(func, row.name, args, kwargs, inplace)

    def _method(self, obj_node, name, node, pair=False):
        self._lessons(name, obj_node)
        if name not in METHOD_FNS and name not in IN_PLACE:
            self._unknown_method(name)
        obj = self.build(obj_node)
        row = OPS[name.rstrip("_")] if name in IN_PLACE else OPS[name]
        args, kwargs = self._arguments(row, node, "m", f".{name}()", pair)
        return Method(obj, name, args, kwargs)

    def _apply(self, module, node, made):
        shown = f"{made.cls if made is not None else module.cls}()"
        if node.keywords:
            raise ExplorerError("bad_keyword", self.field, name=node.keywords[0].arg, func=f"{shown}(...)", allowed="-")
        if len(node.args) != 2:
            raise ExplorerError("bad_argument", self.field, func=shown,
                                detail=f"takes 2 positional argument(s), got {len(node.args)}")
        return Apply(module, tuple(self.build(a) for a in node.args), made)

    # ------------------------------------------------------------ arguments, bound to PyTorch's parameters

    def _arguments(self, row, node, spelling, func, pair):
        """(args as typed, kwargs as typed) of a call of `row`: counted and bound to the row's parameters in
        this spelling as Python binds them, each value checked for its kind; the row's special fields applied."""
        method = spelling == "m"
        params = ([] if method else [row.first]) + list(() if row.varargs else row.positional(spelling))
        need = ([] if method else [row.first]) + list(row.positional(spelling)[:row.need])
        given, n = [k.arg for k in node.keywords], len(node.args)
        kwargs = [self._keyword(row, k, row.param_names(spelling), func) for k in node.keywords]
        spread = row.sizes and method and n > 1               # x.view(2, 3): each number is a size
        most = L.MAX_DIMS + 1 if spread else MAX_OPERANDS + 1 if row.varargs else len(params)
        if any(p not in given for p in need[n:]) or n > most:
            want = f"{len(need)}" if len(need) == len(params) else f"{len(need)} to {len(params)}"
            raise ExplorerError("bad_argument", self.field, func=func,
                                detail=f"takes {want} positional argument(s), got {n}")
        taken = params[:n] if not spread else params[:1]
        for k in given:
            if k in taken:
                raise ExplorerError("bad_argument", self.field, func=func, detail=f"got {k} twice")
        args = []
        for i, a in enumerate(node.args):
            if spread:
                param, kind = params[-1], "int"
            elif i < len(params):
                param, kind = params[i], row.kind(params[i])
            else:                                         # einsum's operands: tensors, or one list of them
                param, kind = "operands", "tensors" if n == 2 and isinstance(a, (ast.List, ast.Tuple)) else "value"
            args.append(self.value(kind, a, func, param))
        if row.varargs:
            count = len(args[1].items) if n == 2 and isinstance(args[1], Seq) else n - 1
            check_equation(args[0].value, self.field, count)
        if row.sizes:
            self._sizes(args[0 if method else 1:], func)
        bound = dict(zip(taken, args)) | dict(kwargs)
        power = bound.get(row.exponent) if row.exponent else None
        if type(power) is Num and abs(power.value) > L.MAX_EXPONENT:
            raise ExplorerError("exponent_too_large", self.field, value=power.value, limit=L.MAX_EXPONENT)
        if row.pair and self.along(bound) and not pair:
            raise ExplorerError("max_dim_pair", self.field, name=row.name)
        if row.promote and any(type(bound[k]) is not Num for k in row.promote if k in bound):
            args = [_promoted(a) if p in row.promote else a for p, a in zip(taken, args)] + args[len(taken):]
            kwargs = [(k, _promoted(v) if k in row.promote else v) for k, v in kwargs]
        return tuple(args), tuple(kwargs)

    def along(self, bound) -> bool:
        """max/min along a dim (a number, not another tensor): a (values, indices) pair."""
        return bound.get("dim") is not None and self.is_number(bound["dim"])

    def _keyword(self, row, k, names, func):
        if k.arg not in names:
            if k.arg in REFUSED:
                raise ExplorerError("refused_keyword", self.field, name=k.arg, func=func, why=REFUSED[k.arg])
            raise ExplorerError("bad_keyword", self.field, name=k.arg, func=func, allowed=", ".join(names) or "-")
        return k.arg, self.value(row.kind(k.arg), k.value, func, k.arg)

    def value(self, kind, v, func, param):
        """One argument, checked for the kind of value its parameter takes."""
        if isinstance(kind, tuple):
            if not (isinstance(v, ast.Constant) and v.value in kind):
                raise ExplorerError("bad_argument", self.field, func=func,
                                    detail=f"{param} must be one of: " + ", ".join(map(repr, kind)))
            return Str(v.value)
        if kind == "bool":
            if not (isinstance(v, ast.Constant) and isinstance(v.value, bool)):
                raise ExplorerError("bad_argument", self.field, func=func, detail=f"{param} must be True or False")
            return Num(v.value)
        if kind == "int":
            return self.int(v, param)
        if kind == "dims" and isinstance(v, (ast.Tuple, ast.List)):
            if not v.elts or len(v.elts) > L.MAX_DIMS:
                raise ExplorerError("bad_argument", self.field, func=func,
                                    detail=f"{param} takes 1 to {L.MAX_DIMS} dimensions")
            return tuple(self.int(x, param) for x in v.elts)
        if kind == "dims":
            return self.int(v, param)
        if kind == "sizes":
            if isinstance(v, (ast.Tuple, ast.List)):
                return tuple(self.int(x, "a size") for x in v.elts)
            return self.int(v, "a size")
        if kind == "norm" and isinstance(v, ast.Constant) and isinstance(v.value, str):
            return self.value(("fro", "nuc"), v, func, param)
        if kind in ("number", "norm"):
            n = self.build(v)
            if not self.is_number(n) or type(n) is Num and isinstance(n.value, bool):
                raise ExplorerError("bad_argument", self.field, func=func, detail=f"{param} must be a number")
            return n
        if kind == "dtype":
            return _dtype(v, self.field)
        if kind == "equation":
            if not (isinstance(v, ast.Constant) and isinstance(v.value, str)):
                raise ExplorerError("bad_argument", self.field, func=func, detail=f"{param} must be a string like 'ij,jk->ik'")
            return Str(v.value)
        if kind == "tensors":
            if not isinstance(v, (ast.List, ast.Tuple)) or not v.elts:
                raise ExplorerError("bad_argument", self.field, func=func,
                                    detail=Bi(("takes a list of tensors, like [a, b]", "需要一个张量列表,例如 [a, b]")))
            return Seq(tuple(self.build(x) for x in v.elts))
        return self.build(v)

    def _sizes(self, args, func):
        sizes = [x for a in args for x in (a if isinstance(a, tuple) else (a,))]
        if len(sizes) > L.MAX_DIMS + 1:
            raise ExplorerError("too_many_dims", self.field, what=func, count=len(sizes), limit=L.MAX_DIMS)
        if any(type(a) is Num and not -1 <= a.value <= L.MAX_INTERMEDIATE for a in sizes):
            raise ExplorerError("bad_argument", self.field, func=func,
                                detail=Bi((f"sizes must be -1 or whole numbers from 0 to {L.MAX_INTERMEDIATE}",
                                           f"尺寸必须是 -1 或 0 到 {L.MAX_INTERMEDIATE} 之间的整数")))


def _promoted(e):
    return Const(scalar_spec(e.value)) if type(e) is Num else e


def _dtype(v, field):
    path = dotted(v)
    short = path[len("torch."):] if path and path.startswith("torch.") else None
    if short in CONVERSIONS:
        return DType(short)
    raise ExplorerError("loss_dtype", field, dtype=path or ast.unparse(v)[:40])


def _resolve(path: str):
    """(canonical spelling, row, spelling letter) of an allowed function path, else None."""
    for prefix in ("torch.nn.functional.", "nn.functional.", "F."):
        row = OPS.get(path[len(prefix):]) if path.startswith(prefix) else None
        if row is not None and "f" in row.spell:
            return f"F.{row.name}", row, "f"
    if path.startswith("torch.linalg."):
        row = OPS.get("linalg." + path[len("torch.linalg."):])
        return (path, row, "l") if row is not None and "l" in row.spell else None
    name = path[len("torch."):] if path.startswith("torch.") else path
    row = OPS.get(name)
    if row is None or "." in name:
        return None
    if path.startswith("torch.") and "t" in row.spell:
        return path, row, "t"
    if path == name and "b" in row.spell:
        return name, row, "b"
    if path == name and row.bare:
        return (f"torch.{name}", row, "t") if "t" in row.spell else (f"F.{name}", row, "f")
    return None


SPELLED = [f"{prefix}{name.partition('.')[2] or name}" for prefix, letter in
           (("torch.", "t"), ("F.", "f"), ("torch.linalg.", "l"), ("", "b")) for name, op in OPS.items()
           if letter in op.spell] + [f"torch.nn.{c}" for c in MODULES]
