"""Tensor definitions: `torch.randn(3, 2)`, `[[1, 2], [3, 4]]`, the course's `torch.tensor(...)` line,
and the constants typed inside a loss (a target, a mask), each checked for size before anything exists.
"""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass

import torch

from .. import limits as L
from ..errors import Bi, ExplorerError
from .text import FACTORIES, TENSOR_HELP, dotted, literal, parse_text, reject


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
        dtype = DTYPES[self.dtype.split(":")[-1][len("torch."):]] if self.dtype else None
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


INT_DTYPES = {"int", "long", "int8", "int16", "int32", "int64", "uint8", "short", "bool"}
DTYPES = {"float": torch.float32, "float32": torch.float32, "int": torch.int32, "long": torch.int64,
          "int8": torch.int8, "int16": torch.int16, "int32": torch.int32, "int64": torch.int64,
          "uint8": torch.uint8, "short": torch.int16, "bool": torch.bool}
FLOAT_DTYPES = {"float", "float32"}


def parse_tensor(text: str, field: str = "tensor", name: str | None = None) -> TensorSpec:
    """Tensor text -> TensorSpec, checking size before anything is allocated."""
    tree = parse_text(text, field, TENSOR_HELP)
    if len(tree.body) != 1:
        reject(tree.body[1] if len(tree.body) > 1 else tree, field, TENSOR_HELP)
    stmt = tree.body[0]
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        if name is not None and stmt.targets[0].id != name:
            raise ExplorerError("name_mismatch", field, name=name, other=stmt.targets[0].id)
        node = stmt.value
    elif isinstance(stmt, ast.Expr):
        node = stmt.value
    else:
        reject(stmt, field, TENSOR_HELP)
    if isinstance(node, ast.Call):
        spec = factory(node, field)
    else:
        data = _data(node, field)
        spec = TensorSpec("tensor", (data,), _data_shape(data, field))
    return bound_spec(spec, field)


def bound_spec(spec, field):
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
        return literal(sign * node.value, field)
    if isinstance(node, ast.Name) and node.id.startswith("_") or isinstance(node, ast.Attribute):
        raise ExplorerError("not_allowed", field, what=f"'{ast.unparse(node)[:40]}'", allowed=TENSOR_HELP)
    if isinstance(node, ast.Name):
        raise ExplorerError("not_allowed", field, what=f"the name '{node.id}'", allowed=TENSOR_HELP)
    reject(node, field, TENSOR_HELP)


def _data_shape(data, field) -> tuple[int, ...]:
    if not isinstance(data, tuple):
        return ()
    if not data:
        return (0,)
    shapes = {_data_shape(d, field) for d in data}
    if len(shapes) != 1:
        raise ExplorerError("ragged", field)
    return (len(data),) + shapes.pop()


def factory(node: ast.Call, field) -> TensorSpec:
    path = dotted(node.func)
    name = path[len("torch."):] if path and path.startswith("torch.") else path
    if name not in FACTORIES:
        if path and any(p.startswith("_") for p in path.split(".")):
            raise ExplorerError("not_allowed", field, what=f"'{path}'", allowed=TENSOR_HELP)
        raise ExplorerError("unknown_function", field, name=path or ast.unparse(node.func)[:40],
                            allowed=", ".join(f"torch.{f}" for f in FACTORIES))
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        raise ExplorerError("not_allowed", field, what="*args / **kwargs", allowed=TENSOR_HELP)
    requires_grad = dtype = None
    for k in node.keywords:
        if k.arg == "requires_grad":
            if not (isinstance(k.value, ast.Constant) and isinstance(k.value.value, bool)):
                raise ExplorerError("bad_argument", field, func=f"torch.{name}", detail="requires_grad must be True or False")
            requires_grad = k.value.value
        elif k.arg == "dtype":
            dtype = dotted(k.value)
            short = dtype[len("torch."):] if dtype and dtype.startswith("torch.") else None
            if short in INT_DTYPES:
                dtype = "int:" + dtype
            elif short not in FLOAT_DTYPES:
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


def scalar_spec(value) -> TensorSpec:
    """A number made a tensor, where PyTorch's overloads want one (clamp with one tensor bound)."""
    return TensorSpec("tensor", (float(value),), (), None, None)


def constant(node, field) -> TensorSpec:
    """torch.tensor([0, 1, 1]) or torch.ones(3) inside the loss: a constant (a target, a mask)."""
    spec = factory(node, field)
    if spec.random:
        raise ExplorerError("not_allowed", field, what=Bi((f"torch.{spec.factory} inside the loss",
                                                            f"损失里的 torch.{spec.factory}")),
                            allowed=Bi(("Define random tensors in the tensors panel: each epoch would draw new ones.",
                                        "请在张量面板里定义随机张量:写在损失里每一轮都会重新抽取。")))
    if spec.requires_grad:
        raise ExplorerError("bad_keyword", field, name="requires_grad", func=f"torch.{spec.factory} inside the loss",
                            allowed="dtype")
    return bound_spec(spec, field)
