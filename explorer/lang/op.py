"""The row type of the op table: one `Op` says everything the app knows about one tensor operation.

A row names how the op is spelled, PyTorch's own parameters (positional order, keyword-only ones, the
kind of value each takes), what the op makes inside (for the dry run), the local-derivative rule of
every grad_fn it produces in English and Chinese, and what sets it apart (a loss's target, a
(values, indices) pair, an exponent bound, ...): special cases are fields, never names tested in code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NamedTuple

from ..errors import Bi

# parameter -> the kind of value it takes, where a row does not say otherwise:
#   "int" a whole number (typed, or a size such as len(x)); "dims" an int or a tuple of ints; "bool";
#   "number" a number; "value" a number or a tensor; "tensor"; "sizes" whole numbers, or one tuple of them;
#   "dtype" torch.float32 and friends; "norm" a number or 'fro'/'nuc'; "equation" einsum's string;
#   a tuple: one of these strings
KINDS = {
    "dim": "int", "keepdim": "bool", "min": "value", "max": "value", "other": "value", "exponent": "value",
    "negative_slope": "number", "alpha": "number", "beta": "number", "threshold": "number", "p": "number",
    "eps": "number", "delta": "number", "label_smoothing": "number", "approximate": ("none", "tanh"),
    "correction": "int", "unbiased": "bool", "start_dim": "int", "end_dim": "int", "dim0": "int", "dim1": "int",
    "diagonal": "int", "ignore_index": "int", "reduction": ("mean", "sum", "none"), "log_target": "bool",
    "training": "bool", "inplace": "bool", "non_blocking": "bool", "copy": "bool",
    "rounding_mode": ("trunc", "floor"), "dims": "sizes", "shape": "sizes", "size": "sizes", "dtype": "dtype",
    "ord": "norm", "bias": "tensor", "index": "tensor", "mat1": "tensor", "mat2": "tensor", "tensor": "tensor",
    "vec2": "tensor", "weight": "tensor", "pos_weight": "tensor", "target": "tensor", "input": "tensor",
    "x1": "tensor", "x2": "tensor", "condition": "tensor", "tensors": "tensors", "equation": "equation",
}

# Keywords PyTorch documents for ops of the table that the language refuses on purpose, and why: the one
# place they are listed (the conformance test checks that every documented keyword is accepted or here).
REFUSED: dict[str, Bi] = {
    "out": Bi(("it writes the result into a tensor you name, behind autograd's back: write name = ... instead",
               "它把结果写进你指定的张量，绕过了 autograd：请改写成 名字 = ...")),
    "dtype": Bi(("the loss computes in float32, as the run, the exported script and the gradient check expect; "
                 "convert a value with .float(), .long() or .to(torch.float32) instead",
                 "损失按 float32 计算，运行、导出的脚本和梯度检验都以此为准；需要转换时请用 .float()、.long() 或 "
                 ".to(torch.float32)")),
    "out_dtype": Bi(("the loss computes in float32", "损失按 float32 计算")),
    "size_average": Bi(("PyTorch deprecated it: use reduction='mean' or 'sum'",
                        "PyTorch 已弃用它：请用 reduction='mean' 或 'sum'")),
    "reduce": Bi(("PyTorch deprecated it: use reduction='none', 'mean' or 'sum'",
                  "PyTorch 已弃用它：请用 reduction='none'、'mean' 或 'sum'")),
    "memory_format": Bi(("it changes how values sit in memory, not the values or their gradients",
                         "它只改变数值在内存中的排列，不改变数值和梯度")),
    "device": Bi(("everything runs on the server's CPU", "一切都在服务器的 CPU 上计算")),
    "other": Bi(("converting to another tensor's type: use .float() or .long()", "要转换类型请用 .float() 或 .long()")),
    "layout": Bi(("only dense tensors can be drawn", "只有稠密张量可以画出来")),
    "pin_memory": Bi(("it concerns copies to a GPU", "它只和复制到 GPU 有关")),
    "sparse_grad": Bi(("gradients here are dense tensors, drawn and updated as they are",
                       "这里的梯度都是稠密张量，按原样绘制和更新")),
    "implicit": Bi(("an internal flag of PyTorch's", "这是 PyTorch 的内部标志")),
}


class Inside(NamedTuple):
    """What an op does beyond reading its inputs and writing its output, for the dry run's sizing."""
    held: int = 0          # elements it makes inside (refused beyond MAX_INTERMEDIATE x 2)
    elements: int = 0      # element-operations on them
    flops: int = 0         # multiply-adds of a matrix product (BLAS: far cheaper than an element-operation)
    rows: int = 0          # slices it works along one at a time (a softmax's rows: a vmap batch pays per row)


@dataclass(frozen=True)
class Op:
    name: str
    spell: str = "tm"                 # t: torch.name(x, ...), f: F.name(x, ...), m: x.name(...),
                                      # l: torch.linalg.name(x, ...), b: a builtin, name(x)
    params: tuple = ()                # PyTorch's parameters after the first, in positional order
    need: int = 0                     # how many of `params` must be given
    keywords: tuple = ()              # keyword-only parameters
    kinds: dict = field(default_factory=dict)   # parameter -> kind where it differs from KINDS
    spelled: dict = field(default_factory=dict)  # parameter -> the spellings that have it, where not all do
    first: str = "input"              # the first parameter's name in the function spellings
    varargs: bool = False             # takes any number of tensors after the first argument (einsum)
    inplace: bool = False             # also spelled x.name_(...), which changes x itself
    inside: Callable | None = None    # (field, bound) -> Inside: what it makes and does inside, before it runs
    rules: dict = field(default_factory=dict)   # grad_fn class name -> (en, zh)
    examples: tuple = ()              # loss texts over w (2, 3), v (3,), x (3, 2), u (2, 3): for the tests
    sizes: bool = False               # its first parameter is a size, also spelled as separate numbers: view(2, 3)
    bare: bool = False                # also spelled without a prefix, as the first version allowed: relu(w)
    worked: dict = field(default_factory=dict)    # grad_fn class name -> how explain.py works its numbers
                                                  # out: "matmul", "mse", "broadcast", "softmax", "log_softmax"
    kink: tuple | None = None         # (at, (en, zh)): at(bound) -> mask of input elements sitting exactly
                                      # on a corner of the op, and which subgradient PyTorch picks there
    weight: float = 1.0               # cost of one of its elements, forward and backward, against an addition's
                                      # (measured: `python -m bench calibrate`; exp 2, sin 3, bce 16)
    batched: bool = True              # torch.func.vmap has a batching rule for it; else the landscape's batch
                                      # runs it once per point
    batch_weight: float | None = None  # its weight inside a vmap batch, where that differs
    batched_in_place: bool = True     # vmap batches its in-place form too (clamp_ it runs once per point)
    module: str = ""                  # a loss's nn class: torch.nn.MSELoss()(z, y)
    module_keywords: tuple | None = None   # the class's keywords, where they are not `keywords`
    target: str = ""                  # a loss's check of its target: "same" shape, or "classes" (indices too)
    pair: bool = False                # along a dim it gives (values, indices): .values or .indices must follow
    promote: tuple = ()               # number bounds beside a tensor bound are made tensors (PyTorch's overloads)
    exponent: str = ""                # the parameter bounded by limits.MAX_EXPONENT
    cut: bool = False                 # its result is cut from the gradient path (detach): the graph says so
    number: bool = False              # gives a Python number (a size), not a tensor
    random: bool = False              # draws from the experiment's seeded stream (`call` gets it first)
    casts: bool = False               # converts dtypes: the float64 gradient check keeps a float result float64
    call: Callable | None = None      # the app's own implementation, where torch's callable will not do

    def positional(self, spelling: str) -> tuple:
        """The parameters after the first that this spelling ("t", "f", "m", ...) has, in order."""
        return tuple(p for p in self.params if spelling in self.spelled.get(p, spelling))

    def param_names(self, spelling: str) -> tuple:
        """Every name the op accepts as a keyword in this spelling (the first argument by name too)."""
        first = () if spelling in "mab" or self.varargs else (self.first,)
        return first + self.positional(spelling) + tuple(
            k for k in self.keywords if spelling in self.spelled.get(k, spelling))

    def kind(self, param: str):
        return self.kinds.get(param) or KINDS.get(param, "value")

    def bind(self, args, kwargs=None) -> dict:
        """PyTorch's binding of a call's arguments to the row's parameter names (the first is `first`)."""
        kwargs = dict(kwargs or {})
        out = {}
        if args:
            out[self.first] = args[0]
        names = self.params if not self.varargs else ()
        for name, value in zip(names, args[1:]):
            out[name] = value
        if self.varargs:                  # einsum('ij,jk', a, b), or einsum('ij,jk', [a, b])
            out["operands"] = list(args[1]) if len(args) == 2 and isinstance(args[1], list) else list(args[1:])
        out.update(kwargs)
        return out
