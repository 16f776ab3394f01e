"""The safe expression language: what a student may type, parsed by `ast` and never executed.

- `text`: the text before it is code (length, characters, syntax) and the words messages use;
- `tensors`: tensor definitions and the constants typed in a loss (`TensorSpec`);
- `parse`: the allow-list walk from a loss's text to a `Program`;
- `nodes`: the tree, one class per kind of node, each with its evaluation, compilation and source;
  `program`: the lines (in-place ones too) and the Program;
- `interpret`: the checked interpreter (`Evaluator`, the dry run) and the training fast path;
- `op`, `ops`, `rows_*`, `sizing`: THE op table, one `Op` row per operation; `noise`: dropout's seeded stream.
"""
from .interpret import TORCH_ERRORS, Evaluator, clean_error, compile_program  # noqa: F401
from .nodes import (Apply, Attr, Axis, BinOp, Call, Const, DType, Index, LossModule, Method, Num, Ref,  # noqa: F401
                    Seq, Slice, Str, Unary)
from .program import AugAssign, Program, Stmt, line_source, to_source  # noqa: F401
from .noise import Fixed, Record, Stream  # noqa: F401
from .op import KINDS, REFUSED, Inside, Op  # noqa: F401
from .ops import (ATTRS, BARE, BUILTINS, F_FUNCTIONS, FUNCTIONS, IN_PLACE, LINALG, METHOD_FNS, MODULES,  # noqa: F401
                  OPS)
from .parse import METHODS, _Expr, parse_loss  # noqa: F401
from .tensors import TensorSpec, parse_tensor  # noqa: F401
from .text import FACTORIES, LOSS_HELP, READABLE, TENSOR_HELP, check_name  # noqa: F401

# the losses of the first version, spelled bare (mse_loss(z, y)) and as nn classes: the tests walk them
LOSSES = {n: F_FUNCTIONS[n] for n, op in OPS.items() if op.module and op.bare}
LOSS_CLASSES = {op.module: n for n, op in OPS.items() if op.module and op.bare}
CLASSES = {op.module: n for n, op in OPS.items() if op.module}
_READABLE = READABLE
