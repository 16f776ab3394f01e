"""THE op table: every tensor operation the loss language knows, one `Op` row each (see op.py).

The rows live by family in rows_*.py; this module puts them together and resolves every callable from
the rows' own names, at import time: nothing a student types ever reaches `getattr`.
Adding an op is adding one row.
"""
from __future__ import annotations

import builtins

import torch
import torch.nn.functional as F

from .. import limits as L
from ..errors import Bi, ExplorerError
from . import rows_elementwise, rows_linalg, rows_loss, rows_reduce, rows_shape
from .op import KINDS, REFUSED, Inside, Op  # noqa: F401
from .rows_elementwise import ADD, DIV, MUL, POW, SUB

# the operators, spelled by the parser itself: their rows carry their rules and costs (`@` is matmul's row)
OPERATORS = [
    Op("+", spell="", worked={"AddBackward0": "broadcast"}, rules=ADD),
    Op("-", spell="", worked={"SubBackward0": "broadcast"}, rules=SUB),
    Op("*", spell="", rules=MUL),
    Op("/", weight=3, spell="", rules=DIV),
    Op("**", weight=4, spell="", rules=POW),
]

OPS: dict[str, Op] = {op.name: op for op in [*rows_elementwise.ROWS, *rows_reduce.ROWS, *rows_shape.ROWS,
                                            *rows_linalg.ROWS, *rows_loss.ROWS, *OPERATORS]}


def _resolve(op: Op, spelling: str):
    """The callable of one spelling of a row, looked up by the row's own name."""
    if op.call is not None:
        return op.call
    name = op.name.rpartition(".")[2]
    return {"t": lambda: getattr(torch, name), "f": lambda: getattr(F, name), "m": lambda: getattr(torch.Tensor, name),
            "l": lambda: getattr(torch.linalg, name), "b": lambda: getattr(builtins, name)}[spelling]()


FUNCTIONS = {n: _resolve(op, "t") for n, op in OPS.items() if "t" in op.spell}
F_FUNCTIONS = {n: _resolve(op, "f") for n, op in OPS.items() if "f" in op.spell}
METHOD_FNS = {n: _resolve(op, "m") for n, op in OPS.items() if "m" in op.spell}
LINALG = {n.partition(".")[2]: _resolve(op, "l") for n, op in OPS.items() if "l" in op.spell}
BUILTINS = {n: _resolve(op, "b") for n, op in OPS.items() if "b" in op.spell}
IN_PLACE = {f"{n}_": getattr(torch.Tensor, f"{n}_") for n, op in OPS.items() if op.inplace}
ATTRS = tuple(n for n, op in OPS.items() if "a" in op.spell)
MODULES = {op.module: op for op in OPS.values() if op.module}
BARE = tuple(n for n, op in OPS.items() if op.bare)
KINKS = {n: op.kink for n, op in OPS.items() if op.kink}


def rules() -> dict[str, tuple[str, str]]:
    """grad_fn class name -> (en, zh), from every row."""
    out = {}
    for op in OPS.values():
        for k, v in op.rules.items():
            out.setdefault(k, v)
    return out


def worked() -> dict[str, str]:
    """grad_fn class name -> the kind of worked-out numbers its step shows, from every row."""
    out = {}
    for op in OPS.values():
        for k, v in op.worked.items():
            out.setdefault(k, v)
    return out


def check_inside(op: Op, field: str, bound: dict) -> Inside:
    """What the op does inside (held in bytes), refused by name beyond MAX_INTERMEDIATE."""
    if op.inside is None:
        return Inside()
    inside = op.inside(field, bound)
    if inside.held > L.MAX_INTERMEDIATE * 2:
        raise ExplorerError("too_many_elements", field, what=Bi((f"'{op.name}' inside", f"'{op.name}' 内部")),
                            count=inside.held, limit=L.MAX_INTERMEDIATE)
    return inside._replace(held=4 * inside.held)
