"""The safe expression language: what a student may type, parsed by `ast` and never executed.

`core` turns text into a tree of plain dataclasses through an allow-list walk and interprets it;
`ops` is the one table of tensor operations (spellings, arguments, dry-run sizing, explanation rules).
"""
from .core import *  # noqa: F401,F403
from .core import (_APP_DOES, _LOSS_HELP, _READABLE, _TENSOR_HELP, _Expr, _describe, _factory,  # noqa: F401
                   TORCH_ERRORS)
from .ops import BARE, F_FUNCTIONS, Inside, KEYWORDS, METHOD_FNS, OPS, Op  # noqa: F401
