"""THE op table: every tensor operation the loss language knows, one entry each.

An entry says how the op may be spelled (torch.f, F.f, t.f()), its positional arity and keywords
(each keyword's checker is named in KEYWORDS), what it makes inside beyond its output (for the dry
run), and the local-derivative rule of every grad_fn it produces, in English and Chinese (read by
explain.py). The torch callables are looked up here, from this table's own names, at import time:
nothing a student types ever reaches `getattr`.
Adding an op is adding one `Op(...)` below.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F

from .. import limits as L
from ..errors import Bi, ExplorerError

# keyword -> how the parser checks its value: "int", "bool", "number" (a typed number), "value"
# (a number or a tensor), or a tuple of the allowed strings
KEYWORDS = {"dim": "int", "keepdim": "bool", "min": "value", "max": "value", "negative_slope": "number",
            "alpha": "number", "beta": "number", "threshold": "number", "approximate": ("none", "tanh"),
            "correction": "int", "p": "number", "eps": "number", "bias": "value", "start_dim": "int",
            "end_dim": "int", "reduction": ("mean", "sum", "none"), "log_target": "bool"}


@dataclass(frozen=True)
class Op:
    name: str
    spell: str = "tm"                 # t: torch.name(x, ...), f: F.name(x, ...), m: x.name(...)
    arity: tuple = (0, 0)             # positional arguments after the first
    keywords: tuple = ()
    inside: Callable | None = None    # (field, args) -> Inside: what it makes and does inside, before the op runs
    rules: dict = field(default_factory=dict)   # grad_fn class name -> (en, zh)
    examples: tuple = ()              # loss texts over w (2, 3), v (3,), x (3, 2), u (2, 3): for the tests
    sizes: bool = False               # takes sizes, also as one tuple: reshape((2, 3))
    tensors: bool = False             # the first argument is a list of tensors: cat, stack
    choices: dict = field(default_factory=dict)   # keyword -> allowed strings, where this op differs
    bare: bool = False                # also spelled without a prefix, as the first version allowed: relu(w)
    worked: dict = field(default_factory=dict)    # grad_fn class name -> how explain.py works its numbers
                                                  # out: "matmul", "mse", "broadcast", "softmax", "log_softmax"
    kink: tuple | None = None         # (at, (en, zh)): at(args, kwargs) -> mask of input elements sitting exactly
                                      # on a corner of the op, and which subgradient PyTorch picks there
    weight: float = 1.0               # cost of one of its elements, forward and backward, against an addition's
                                      # (measured: `python -m bench calibrate`; exp 2, sin 3, bce 16)
    batched: bool = True              # torch.func.vmap has a batching rule for it; else the landscape's batch
                                      # runs it once per point
    batch_weight: float | None = None  # its weight inside a vmap batch, where that differs (small matrix
                                       # products: far slower batched than alone)


class Inside(NamedTuple):
    """What an op does beyond reading its inputs and writing its output, for the dry run's sizing."""
    held: int = 0          # elements it makes inside (refused beyond MAX_INTERMEDIATE x 2)
    elements: int = 0      # element-operations on them
    flops: int = 0         # multiply-adds of a matrix product (BLAS: far cheaper than an element-operation)
    rows: int = 0          # slices it works along one at a time (a softmax's rows: a vmap batch pays per row)


def _like_input(field, args, kwargs=None):
    """Softmax, cumsum, std and friends keep a temporary the size of their input, and work row by row
    along `dim` (all of it as one row without a dim)."""
    x = args[0]
    if not isinstance(x, torch.Tensor):
        return Inside()
    n = x.numel()
    dim = (kwargs or {}).get("dim", args[1] if len(args) > 1 and isinstance(args[1], int) else None)
    length = x.shape[dim] if isinstance(dim, int) and -x.dim() <= dim < max(1, x.dim()) and x.dim() else n
    return Inside(n, 2 * n, rows=n // length if length else 0)


def size_matmul(field, sa, sb) -> Inside:
    """What `a @ b` does inside: batch dimensions are broadcast by copying each operand to the full
    batch (a (316,1,1,316) @ (1,316,316,1) product makes two 31-million-element copies to return
    100,000 numbers), then batch × n × k × m multiply-adds."""
    try:
        batch = tuple(torch.broadcast_shapes(sa[:-2], sb[:-2]))
    except RuntimeError:
        raise ExplorerError("shape_mismatch", field, op="matrix multiplication @", left=sa, right=sb) from None
    count = math.prod(batch)
    n, k = (sa[-2], sa[-1]) if len(sa) > 1 else (1, sa[0])
    m = sb[-1] if len(sb) > 1 else 1
    held = 0
    for side, shape, inner in (("left", sa, n * k), ("right", sb, k * m)):
        if batch and tuple(shape[:-2]) != batch:
            copied = count * inner
            if copied > L.MAX_INTERMEDIATE:
                raise ExplorerError("too_many_elements", field,
                                    what=Bi((f"'@' inside (its {side} operand copied to batch {list(batch)})",
                                             f"'@' 内部({'左' if side == 'left' else '右'}操作数被复制成批次 "
                                             f"{list(batch)})")),
                                    count=copied, limit=L.MAX_INTERMEDIATE)
            held += 2 * copied            # the copy, and its gradient in backward
    return Inside(held, held, count * n * k * m)


def _matmul(field, args, kwargs=None):
    a, b = args[0], args[1]
    if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
        raise ExplorerError("bad_argument", field, func="@ / matmul", detail="needs tensors on both sides")
    sa, sb = tuple(a.shape), tuple(b.shape)
    if a.dim() == 0 or b.dim() == 0 or sa[-1] != (sb[0] if b.dim() == 1 else sb[-2]):
        raise ExplorerError("shape_mismatch", field, op="matrix multiplication @", left=sa, right=sb)
    return size_matmul(field, sa, sb)


def _products(field, args, kwargs=None):
    """mm, bmm, dot, mv: every output element is a dot product over the shared dimension, so the
    multiply-adds are the output's size times that dimension (the same count `@` is charged)."""
    a, b = (x for x in args[:2])
    if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)) or a.dim() == 0 or b.dim() == 0:
        return Inside()
    inner = a.shape[-1]
    rows = a.numel() // max(1, inner)
    cols = b.shape[-1] if b.dim() > 1 else 1
    return Inside(flops=rows * inner * cols)


def _linear(field, args, kwargs=None):
    """F.linear(x, W): x (..., k) times W (m, k) transposed: every row of x meets every row of W."""
    x, w = args[0], args[1] if len(args) > 1 else None
    if not (isinstance(x, torch.Tensor) and isinstance(w, torch.Tensor)) or x.dim() == 0:
        return Inside()
    return Inside(flops=x.numel() * (w.shape[0] if w.dim() > 1 else 1))


def _pairwise(field, args, kwargs=None):
    """An op of two tensors that broadcasts them before reducing (kl_div): the broadcast temporaries
    are made inside even when the result is one number ((1, N) against (N, 1) builds N × N)."""
    tensors = [x for x in args[:2] if isinstance(x, torch.Tensor)]
    if len(tensors) < 2:
        return Inside()
    try:
        n = math.prod(torch.broadcast_shapes(*(t.shape for t in tensors)))
    except RuntimeError:
        raise ExplorerError("shape_mismatch", field, op="kl_div", left=tuple(tensors[0].shape),
                            right=tuple(tensors[1].shape)) from None
    return Inside(3 * n, 6 * n)


def _grad_input(args):
    x = args[0] if args else None
    return x if isinstance(x, torch.Tensor) and x.requires_grad and x.is_floating_point() else None


def _at_zero(args, kwargs):
    x = _grad_input(args)
    return None if x is None else x == 0


def _at_bounds(args, kwargs):
    """clamp: x equal to min or max (numbers or tensors)."""
    x = _grad_input(args)
    if x is None:
        return None
    bounds = list(args[1:3]) + [kwargs.get("min"), kwargs.get("max")]
    mask = torch.zeros_like(x, dtype=torch.bool)
    for b in bounds:
        if b is not None:
            mask |= x == (b.detach() if isinstance(b, torch.Tensor) else b)
    return mask


def _at_ties(args, kwargs, largest=True):
    """max/min/amax/amin: elements tied for the extreme of their slice (all, or along dim); with a
    second tensor (torch.max(a, b)) the positions where both are equal."""
    x = _grad_input(args)
    other = args[1] if len(args) > 1 else kwargs.get("other")
    if isinstance(other, torch.Tensor):
        a, b = args[0], other
        if not ((a.requires_grad or b.requires_grad) and a.is_floating_point()):
            return None
        return (a == b).expand(torch.broadcast_shapes(a.shape, b.shape))
    if x is None or x.numel() == 0:
        return None
    dim = other if isinstance(other, (int, tuple)) else kwargs.get("dim")
    dims = tuple(range(x.dim())) if dim is None else dim
    top = x.detach().amax(dims, keepdim=True) if largest else x.detach().amin(dims, keepdim=True)
    hit = x == top
    return hit & (hit.sum(dims, keepdim=True) > 1)


def _ties(largest):
    return lambda args, kwargs: _at_ties(args, kwargs, largest)


def _at_equal(args, kwargs):
    a, b = (args + (None, None))[:2]
    if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and (a.requires_grad or b.requires_grad)):
        return None
    return (a == b).expand(torch.broadcast_shapes(a.shape, b.shape))


_TIES = ("Several elements tie for the extreme: PyTorch shares the gradient equally among them (1/k each; along "
         "a dim all of it goes to the one at .indices). Nudging one tied element moves the result on one side "
         "only, so the estimate gives each 0.5.",
         "有几个元素并列最大（或最小）：PyTorch 把梯度平分给它们（每个 1/k；沿 dim 时全部给 .indices 指向的那个）。"
         "微调其中一个只会在一侧改变结果，所以数值估计给每个都是 0.5。")
_EQUAL = ("Where both inputs are equal PyTorch gives each half of the gradient; the estimate averages the slopes 0 "
          "and 1, also 0.5: here they agree.",
          "两个输入相等处，PyTorch 给每个一半的梯度；数值估计平均两侧斜率 0 和 1，也是 0.5：这里两者一致。")
_BOUNDS = ("At x = min or x = max PyTorch counts x as inside and passes the gradient on (slope 1); the estimate "
           "averages the slopes 1 and 0 and gets 0.5.",
           "x 恰好等于 min 或 max 时，PyTorch 把它算作在范围内，照常传梯度（斜率 1）；数值估计平均两侧斜率 1 和 0，得到 0.5。")


_RESHAPE = ("Only moves values around (view, transpose, index): the gradient is moved back to where each "
            "value came from, unchanged; positions that were not used get 0.",
            "只移动数值(变形、转置、索引):梯度被原样送回每个值原来的位置,没有用到的位置得到 0。")


def _moves(*names):
    return {n: _RESHAPE for n in names}


_CLAMP = {"ClampBackward1": ("1 where x is inside [min, max], 0 where it was clamped.", "x 在 [min, max] 内为 1,被截断处为 0。"),
          "ClampMinBackward0": ("1 where x ≥ min, 0 where it was clamped.", "x ≥ min 处为 1,被截断处为 0。"),
          "ClampMaxBackward0": ("1 where x ≤ max, 0 where it was clamped.", "x ≤ max 处为 1,被截断处为 0。"),
          "ClampBackward0": ("1 where x is inside [min, max], 0 where it was clamped; a tensor bound gets the "
                             "gradient where it was the value chosen.",
                             "x 在 [min, max] 内为 1,被截断处为 0;作为边界的张量在被选中的位置得到梯度。")}
_POW = {"PowBackward0": ("d(xⁿ)/dx = n·xⁿ⁻¹.", "d(xⁿ)/dx = n·xⁿ⁻¹。"),
        "PowBackward1": ("d(aᵇ)/da = b·aᵇ⁻¹ and d(aᵇ)/db = aᵇ·ln a.", "d(aᵇ)/da = b·aᵇ⁻¹,d(aᵇ)/db = aᵇ·ln a。"),
        "PowBackward2": ("d(aˣ)/dx = aˣ·ln a.", "d(aˣ)/dx = aˣ·ln a。")}
_NORM = {"NormBackward1": ("d‖x‖/dx = x / ‖x‖.", "d‖x‖/dx = x / ‖x‖。"),
         "LinalgVectorNormBackward0": ("d‖x‖/dx = x / ‖x‖ (for p = 2; xᵢ|xᵢ|ᵖ⁻² / ‖x‖ᵖ⁻¹ in general).",
                                       "d‖x‖/dx = x / ‖x‖(p = 2 时;一般为 xᵢ|xᵢ|ᵖ⁻² / ‖x‖ᵖ⁻¹)。")}
_MATMUL = {
    "MmBackward0": ("Z = X·W: dL/dX = dL/dZ · Wᵀ and dL/dW = Xᵀ · dL/dZ.", "Z = X·W:dL/dX = dL/dZ · Wᵀ,dL/dW = Xᵀ · dL/dZ。"),
    "MvBackward0": ("z = M·v: dL/dM = dL/dz · vᵀ and dL/dv = Mᵀ · dL/dz.", "z = M·v:dL/dM = dL/dz · vᵀ,dL/dv = Mᵀ · dL/dz。"),
    "DotBackward0": ("z = a·b: dL/da = dL/dz · b and dL/db = dL/dz · a.", "z = a·b:dL/da = dL/dz · b,dL/db = dL/dz · a。"),
    "BmmBackward0": ("Z = X·W for each matrix of the batch: dL/dX = dL/dZ · Wᵀ and dL/dW = Xᵀ · dL/dZ.",
                     "对批次中的每个矩阵 Z = X·W:dL/dX = dL/dZ · Wᵀ,dL/dW = Xᵀ · dL/dZ。"),
    "AddmmBackward0": ("Z = B + X·W: as a matrix product, plus the bias gets the gradient summed over rows.",
                       "Z = B + X·W:与矩阵乘法相同,偏置得到按行求和的梯度。"),
    "UnsafeViewBackward0": _RESHAPE, "ExpandBackward0": _RESHAPE,
}
_MAX = {"MaxBackward1": ("max() of all elements: the gradient goes to the largest element (shared equally if "
                         "several are largest); every other element gets 0.",
                         "对全部元素取 max():梯度只给最大的那个元素(并列最大时平分),其余元素得到 0。"),
        "MaxBackward0": ("max along dim: in each slice the gradient goes to the element at .indices (the "
                         "largest); the others get 0.",
                         "沿 dim 取最大值:每一段里梯度只给 .indices 指向的元素(最大的那个),其余得到 0。")}
_MIN = {"MinBackward1": ("min() of all elements: the gradient goes to the smallest element (shared equally if "
                         "several are smallest); every other element gets 0.",
                         "对全部元素取 min():梯度只给最小的那个元素(并列最小时平分),其余元素得到 0。"),
        "MinBackward0": ("min along dim: in each slice the gradient goes to the element at .indices (the "
                         "smallest); the others get 0.",
                         "沿 dim 取最小值:每一段里梯度只给 .indices 指向的元素(最小的那个),其余得到 0。")}
_SOFTMAX = {"SoftmaxBackward0": ("With s = softmax(z) and arriving g: dL/dz = s·(g - sum(g·s)).",
                                 "设 s = softmax(z),传来的梯度为 g:dL/dz = s·(g - sum(g·s))。")}
_LOG_SOFTMAX = {"LogSoftmaxBackward0": ("d log_softmax(z)/dz = g - softmax(z)·sum(g).",
                                        "d log_softmax(z)/dz = g - softmax(z)·sum(g)。")}
_SHAPES = ("ViewBackward0", "UnsafeViewBackward0", "ReshapeAliasBackward0", "CloneBackward0")

OPS: dict[str, Op] = {op.name: op for op in [
    # elementwise
    Op("abs", bare=True, kink=(_at_zero, ("PyTorch takes abs′(0) = sign(0) = 0; the estimate averages the slopes "
                                          "−1 and 1, which also gives 0: here they agree.",
                                          "PyTorch 取 abs′(0) = sign(0) = 0；数值估计平均两侧斜率 −1 和 1，也是 0："
                                          "这里两者一致。")),
       rules={"AbsBackward0": ("d |x|/dx = sign(x).", "d |x|/dx = sign(x)。")},
       examples=("torch.abs(w - 0.3).sum()", "(w - 0.3).abs().sum()")),
    Op("exp", weight=2, bare=True, rules={"ExpBackward0": ("d eˣ/dx = eˣ.", "d eˣ/dx = eˣ。")}, examples=("torch.exp(w).sum()",)),
    Op("log", weight=2, bare=True, rules={"LogBackward0": ("d ln(x)/dx = 1/x.", "d ln(x)/dx = 1/x。")},
       examples=("torch.log(w * w + 1).sum()",)),
    Op("log1p", weight=2, rules={"Log1PBackward0": ("d ln(1 + x)/dx = 1/(1 + x).", "d ln(1 + x)/dx = 1/(1 + x)。")},
       examples=("torch.log1p(w * w).sum()", "(w * w).log1p().sum()")),
    Op("sqrt", weight=2, bare=True, rules={"SqrtBackward0": ("d √x/dx = 1/(2√x).", "d √x/dx = 1/(2√x)。")},
       examples=("torch.sqrt(w * w + 1).sum()",)),
    Op("square", bare=True, rules=_POW, examples=("torch.square(w).sum()",)),
    Op("pow", weight=4, arity=(1, 1), rules=_POW, examples=("w.pow(3).sum()", "torch.pow(w, 2).sum()")),
    Op("neg", rules={"NegBackward0": ("d(-x)/dx = -1.", "d(-x)/dx = -1。")}, examples=("w.neg().sum()",)),
    Op("sin", weight=5, bare=True, rules={"SinBackward0": ("d sin(x)/dx = cos(x).", "d sin(x)/dx = cos(x)。")},
       examples=("torch.sin(w).sum()", "w.sin().sum()")),
    Op("cos", weight=5, bare=True, rules={"CosBackward0": ("d cos(x)/dx = -sin(x).", "d cos(x)/dx = -sin(x)。")},
       examples=("torch.cos(w).sum()",)),
    Op("tanh", weight=5, spell="tfm", bare=True, rules={"TanhBackward0": ("d tanh(x)/dx = 1 - tanh²(x).", "d tanh(x)/dx = 1 - tanh²(x)。")},
       examples=("torch.tanh(w).sum()", "F.tanh(w).sum()")),
    Op("sigmoid", spell="tfm", bare=True,
       rules={"SigmoidBackward0": ("dσ(x)/dx = σ(x)·(1 - σ(x)).", "dσ(x)/dx = σ(x)·(1 - σ(x))。")},
       examples=("torch.sigmoid(w).sum()", "F.sigmoid(w).sum()")),
    Op("relu", spell="tfm", bare=True,
       kink=(_at_zero, ("PyTorch takes relu′(0) = 0 (ReluBackward passes the gradient only where x > 0); the "
                        "estimate averages the slopes 0 and 1 on the two sides and gets 0.5.",
                        "PyTorch 取 relu′(0) = 0（ReluBackward 只在 x > 0 处传梯度）；数值估计平均两侧斜率 0 和 1，"
                        "得到 0.5。")),
       rules={"ReluBackward0": ("d relu(x)/dx = 1 where x > 0, else 0.", "x > 0 时 d relu(x)/dx = 1,否则为 0。")},
       examples=("F.relu(w - 0.3).sum()", "torch.relu(w - 0.3).sum()", "(w - 0.3).relu().sum()")),
    Op("leaky_relu", spell="f", arity=(0, 1), keywords=("negative_slope",),
       kink=(_at_zero, ("At x = 0 PyTorch takes the left slope, negative_slope; the estimate averages it with "
                        "the right slope 1.", "x = 0 处 PyTorch 取左侧斜率 negative_slope；数值估计把它和右侧斜率 1 平均。")),
       rules={"LeakyReluBackward0": ("1 where x > 0, else negative_slope (0.01 unless given).",
                                     "x > 0 处为 1,否则为 negative_slope(默认 0.01)。")},
       examples=("F.leaky_relu(w - 0.3).sum()", "F.leaky_relu(w - 0.3, negative_slope=0.2).sum()")),
    Op("gelu", weight=4, spell="f", keywords=("approximate",),
       rules={"GeluBackward0": ("gelu(x) = x·Φ(x), so d/dx = Φ(x) + x·φ(x) (Φ, φ: the normal distribution's "
                                "CDF and density).", "gelu(x) = x·Φ(x),所以 d/dx = Φ(x) + x·φ(x)(Φ、φ:正态分布的分布函数和密度)。")},
       examples=("F.gelu(w).sum()", "F.gelu(w, approximate='tanh').sum()")),
    Op("softplus", weight=4, spell="f", keywords=("beta", "threshold"),
       rules={"SoftplusBackward0": ("softplus(x) = ln(1 + e^(βx))/β, so d/dx = σ(βx).",
                                    "softplus(x) = ln(1 + e^(βx))/β,所以 d/dx = σ(βx)。")},
       examples=("F.softplus(w).sum()", "F.softplus(w, beta=2).sum()")),
    Op("elu", spell="f", keywords=("alpha",),
       rules={"EluBackward0": ("1 where x > 0, else α·eˣ.", "x > 0 处为 1,否则为 α·eˣ。")},
       examples=("F.elu(w - 0.3).sum()", "F.elu(w - 0.3, alpha=0.5).sum()")),
    Op("silu", weight=2, spell="f", rules={"SiluBackward0": ("silu(x) = x·σ(x), so d/dx = σ(x)·(1 + x·(1 - σ(x))).",
                                                   "silu(x) = x·σ(x),所以 d/dx = σ(x)·(1 + x·(1 - σ(x)))。")},
       examples=("F.silu(w).sum()",)),
    Op("clamp", weight=6, arity=(0, 2), keywords=("min", "max"), bare=True, rules=_CLAMP, kink=(_at_bounds, _BOUNDS),
       examples=("torch.clamp(w, -0.5, 0.5).sum()", "w.clamp(min=0.2).sum()", "w.clamp(max=0.4).sum()",
                 "torch.clamp(w, min=v.sum(), max=1).sum()", "torch.clamp(w, min=u).sum()")),
    Op("maximum", arity=(1, 1), kink=(_at_equal, _EQUAL),
       rules={"MaximumBackward0": ("The gradient goes to the larger input at each position (half each on a tie).",
                                   "每个位置梯度给较大的那个输入(相等时各一半)。")},
       examples=("torch.maximum(w, u).sum()", "w.maximum(u).sum()")),
    Op("minimum", arity=(1, 1), kink=(_at_equal, _EQUAL),
       rules={"MinimumBackward0": ("The gradient goes to the smaller input at each position (half each on a tie).",
                                   "每个位置梯度给较小的那个输入(相等时各一半)。")},
       examples=("torch.minimum(w, u).sum()",)),
    Op("where", spell="t", arity=(2, 2),
       rules={"WhereBackward0": ("where(mask, a, b): the gradient goes to a where the mask is True and to b "
                                 "where it is False; the mask itself has no gradient.",
                                 "where(mask, a, b):mask 为 True 处梯度给 a,为 False 处给 b;mask 本身没有梯度。")},
       examples=("torch.where(w > 0.3, w, 0.1 * w).sum()", "torch.where(w > u, w, u).sum()")),
    # reductions
    Op("sum", arity=(0, 1), keywords=("dim", "keepdim"), bare=True,
       rules={"SumBackward0": ("d(sum x)/dxᵢ = 1: the gradient is copied to every element.",
                               "d(sum x)/dxᵢ = 1:梯度被复制给每一个元素。"),
              "SumBackward1": ("d(sum x)/dxᵢ = 1 along the summed dimension.", "沿求和的维度 d(sum x)/dxᵢ = 1。")},
       examples=("torch.sum(w) + w.sum(dim=0).sum()", "w.sum(1, keepdim=True).sum()")),
    Op("mean", arity=(0, 1), keywords=("dim", "keepdim"), bare=True,
       rules={"MeanBackward0": ("d(mean x)/dxᵢ = 1/N: every element gets an equal share.",
                                "d(mean x)/dxᵢ = 1/N:每个元素分到相同的一份。"),
              "MeanBackward1": ("d(mean x)/dxᵢ = 1/N along the averaged dimension.", "沿求平均的维度 d(mean x)/dxᵢ = 1/N。")},
       examples=("torch.mean(w) + w.mean(dim=1).sum()",)),
    Op("prod", weight=2, arity=(0, 1), keywords=("dim", "keepdim"), inside=_like_input,
       rules={"ProdBackward0": ("d(prod x)/dxᵢ = the product of all the other elements.",
                                "d(prod x)/dxᵢ = 其余所有元素的乘积。"),
              "ProdBackward1": ("Along dim: d(prod x)/dxᵢ = the product of the other elements of its slice.",
                                "沿 dim:d(prod x)/dxᵢ = 同一段中其余元素的乘积。")},
       examples=("w.prod()", "torch.prod(w, dim=1).sum()")),
    Op("max", weight=3, batch_weight=12, arity=(0, 1), keywords=("dim", "keepdim"), rules=_MAX, kink=(_ties(True), _TIES),
       examples=("w.max()", "torch.max(w, dim=1).values.sum()", "w.max(0).values.sum()",
                 "torch.max(w, u).sum()")),
    Op("min", weight=3, batch_weight=12, arity=(0, 1), keywords=("dim", "keepdim"), rules=_MIN, kink=(_ties(False), _TIES),
       examples=("w.min()", "torch.min(w, dim=0).values.sum()")),
    Op("amax", weight=3, arity=(0, 1), keywords=("dim", "keepdim"), kink=(_ties(True), _TIES),
       rules={"AmaxBackward0": ("The gradient goes to the largest element(s), shared equally among ties; "
                                "the others get 0.", "梯度给最大的元素(并列时平分),其余得到 0。")},
       examples=("w.amax(dim=1).sum()", "torch.amax(w)")),
    Op("amin", weight=3, arity=(0, 1), keywords=("dim", "keepdim"), kink=(_ties(False), _TIES),
       rules={"AminBackward0": ("The gradient goes to the smallest element(s), shared equally among ties; "
                                "the others get 0.", "梯度给最小的元素(并列时平分),其余得到 0。")},
       examples=("w.amin(dim=1).sum()",)),
    Op("std", batch_weight=30, weight=2, arity=(0, 1), keywords=("dim", "keepdim", "correction"), inside=_like_input,
       rules={"StdBackward0": ("d std/dxᵢ = (xᵢ - mean) / ((N - correction)·std).",
                               "d std/dxᵢ = (xᵢ - mean) / ((N - correction)·std)。")},
       examples=("w.std()", "torch.std(w, dim=1).sum()", "w.std(correction=0)")),
    Op("var", batch_weight=30, weight=3, arity=(0, 1), keywords=("dim", "keepdim", "correction"), inside=_like_input,
       rules={"VarBackward0": ("d var/dxᵢ = 2·(xᵢ - mean) / (N - correction).",
                               "d var/dxᵢ = 2·(xᵢ - mean) / (N - correction)。")},
       examples=("w.var()", "torch.var(w, dim=0).sum()")),
    Op("norm", weight=2, arity=(0, 1), keywords=("dim", "keepdim", "p"), inside=_like_input, rules=_NORM,
       examples=("w.norm()", "torch.norm(w, dim=1).sum()", "w.norm(p=1)")),
    Op("logsumexp", weight=4, arity=(0, 1), keywords=("dim", "keepdim"), inside=_like_input,
       rules={"LogsumexpBackward0": ("d logsumexp(x)/dxᵢ = softmax(x)ᵢ.", "d logsumexp(x)/dxᵢ = softmax(x)ᵢ。")},
       examples=("torch.logsumexp(w, dim=1).sum()", "w.logsumexp(0).sum()")),
    Op("cumsum", weight=3, arity=(0, 1), keywords=("dim",), inside=_like_input,
       rules={"CumsumBackward0": ("Each xᵢ is in every later partial sum, so it gets the sum of the arriving "
                                  "gradients from position i on (a cumulative sum in reverse).",
                                  "每个 xᵢ 出现在它之后的所有部分和里,所以得到从位置 i 起传来梯度之和(反向累加)。")},
       examples=("torch.cumsum(w, dim=1).sum()", "(w.cumsum(0) * u).sum()")),
    # shape
    Op("transpose", arity=(2, 2), rules=_moves("TransposeBackward0"),
       examples=("(u @ w.transpose(0, 1)).sum()", "(torch.transpose(w, 0, 1) * x).sum()")),
    Op("permute", arity=(1, L.MAX_DIMS), sizes=True, rules=_moves("PermuteBackward0"),
       examples=("(w.permute(1, 0) * x).sum()", "(torch.permute(w, (1, 0)) * x).sum()")),
    Op("t", rules=_moves("TBackward0"), examples=("(w.t() * x).sum()", "(torch.t(w) * x).sum()")),
    Op("reshape", arity=(1, L.MAX_DIMS), sizes=True, rules=_moves(*_SHAPES),
       examples=("(w.reshape(3, 2) * x).sum()", "(torch.reshape(w, (3, 2)) * x).sum()", "w.reshape(-1).sum()")),
    Op("view", spell="m", arity=(1, L.MAX_DIMS), sizes=True, rules=_moves(*_SHAPES),
       examples=("(w.view(3, 2) * x).sum()",)),
    Op("flatten", arity=(0, 2), keywords=("start_dim", "end_dim"), rules=_moves(*_SHAPES),
       examples=("(w.flatten() * w.flatten()).sum()", "torch.flatten(w).sum()")),
    Op("squeeze", arity=(0, 1), rules=_moves("SqueezeBackward0", "SqueezeBackward1", "SqueezeBackward2",
                                             "SqueezeBackward3", "SqueezeBackward4"),
       examples=("(w.unsqueeze(0).squeeze(0) * u).sum()", "torch.squeeze(w.unsqueeze(0)).sum()")),
    Op("unsqueeze", arity=(1, 1), rules=_moves("UnsqueezeBackward0"),
       examples=("(w.unsqueeze(1) * w.unsqueeze(0)).sum()", "torch.unsqueeze(v, 0).sum()")),
    Op("expand", spell="m", arity=(1, L.MAX_DIMS), sizes=True,
       rules={"ExpandBackward0": ("expand repeats values without copying them: each value's gradient is the "
                                  "sum over all its repeats.", "expand 不复制地重复数值:每个值的梯度是它所有重复位置的梯度之和。")},
       examples=("(v.expand(2, 3) * w).sum()", "(v.unsqueeze(0).expand(4, -1)).sum()")),
    Op("cat", spell="t", arity=(0, 1), keywords=("dim",), tensors=True,
       rules={"CatBackward0": ("cat only places inputs side by side: each input gets its own slice of the "
                               "gradient back.", "cat 只是把输入拼在一起:每个输入取回梯度中属于自己的那一段。")},
       examples=("torch.cat([w, u]).sum()", "(torch.cat([w, u], dim=1) ** 2).sum()", "torch.cat([v, v * 2]).sum()")),
    Op("stack", spell="t", arity=(0, 1), keywords=("dim",), tensors=True,
       rules={"StackBackward0": ("stack puts inputs along a new dimension: each input gets its slice of the "
                                 "gradient back.", "stack 沿新维度叠放输入:每个输入取回梯度中属于自己的那一片。")},
       examples=("(torch.stack([w, u]) ** 2).sum()", "torch.stack([w, u], dim=2).sum()")),
    # losses beyond the seven of the first version
    Op("nll_loss", weight=2, spell="f", arity=(1, 1), keywords=("reduction",),
       rules={"NllLossBackward0": ("nll picks -log p of the target class: gradient -1/N there, 0 elsewhere.",
                                   "nll 取目标类别的 -log p:该处梯度为 -1/N,其余为 0。")},
       examples=("F.nll_loss(F.log_softmax(w, dim=1), torch.tensor([0, 2]))",
                 "torch.nn.NLLLoss()(torch.log_softmax(w, dim=1), torch.tensor([2, 0]))",
                 "F.nll_loss(torch.log_softmax(w, dim=1), torch.tensor([1, 1]), reduction='sum')")),
    Op("kl_div", weight=5, batched=False, spell="f", arity=(1, 1), keywords=("reduction", "log_target"), inside=_pairwise,
       choices={"reduction": ("mean", "sum", "none", "batchmean")},
       rules={"KlDivBackward0": ("kl_div(input, target) = target·(ln target - input): d/d input = -target "
                                 "(divided by N for 'mean', by the batch size for 'batchmean').",
                                 "kl_div(input, target) = target·(ln target - input):对 input 的导数为 -target"
                                 "('mean' 时再除以 N,'batchmean' 时除以批大小)。"),
              "XlogyBackward0": ("xlogy(t, t) = t·ln t, the target's own term: d/dt = ln t + 1.",
                                 "xlogy(t, t) = t·ln t,即目标自身的那一项:d/dt = ln t + 1。")},
       examples=("F.kl_div(F.log_softmax(w, dim=1), torch.softmax(u, dim=1), reduction='batchmean')",
                 "F.kl_div(F.log_softmax(w, dim=1), F.log_softmax(u, dim=1), reduction='sum', log_target=True)",
                 "torch.nn.KLDivLoss(reduction='batchmean')(F.log_softmax(w, dim=1), torch.softmax(u, dim=1))")),
    Op("detach", spell="m", examples=("(w - w.detach()).sum()", "(w * w.detach()).sum()")),
    # linear algebra and nn
    Op("matmul", batch_weight=25, arity=(1, 1), inside=_matmul, bare=True, rules=_MATMUL, worked={"MmBackward0": "matmul"},
       examples=("torch.matmul(w, x).sum()", "w.matmul(v).sum()", "(u @ w.transpose(0, 1)).sum()")),
    Op("mm", batch_weight=25, arity=(1, 1), inside=_products, rules=_MATMUL, worked={"MmBackward0": "matmul"}, examples=("torch.mm(w, x).sum()", "w.mm(x).sum()")),
    Op("dot", batch_weight=25, arity=(1, 1), inside=_products, rules=_MATMUL, examples=("torch.dot(v, v)", "v.dot(v * 2)")),
    Op("bmm", batch_weight=25, arity=(1, 1), inside=_products, rules=_MATMUL,
       examples=("torch.bmm(w.unsqueeze(0), x.unsqueeze(0)).sum()",)),
    Op("linear", batch_weight=25, spell="f", arity=(1, 2), keywords=("bias",), inside=_linear, rules=_MATMUL,
       examples=("F.linear(w, x.t()).sum()", "F.linear(w, x.t(), v[:2]).sum()", "F.linear(v, w).sum()")),
    Op("softmax", weight=5, spell="tfm", arity=(0, 1), keywords=("dim",), inside=_like_input, rules=_SOFTMAX,
       worked={"SoftmaxBackward0": "softmax"},
       examples=("(torch.softmax(w, dim=1) * u).sum()", "(F.softmax(w, dim=0) * u).sum()", "(w.softmax(1) * u).sum()")),
    Op("log_softmax", weight=5, spell="tfm", arity=(0, 1), keywords=("dim",), inside=_like_input, rules=_LOG_SOFTMAX,
       worked={"LogSoftmaxBackward0": "log_softmax"},
       examples=("(torch.log_softmax(w, dim=1) * u).sum()", "(F.log_softmax(w, dim=1) * u).sum()")),
    Op("normalize", weight=4, spell="f", keywords=("p", "dim", "eps"), inside=_like_input,
       rules={"ClampMinBackward0": _CLAMP["ClampMinBackward0"], "DivBackward0":
              ("d(a / b)/da = 1/b and d(a / b)/db = -a/b².", "d(a / b)/da = 1/b,d(a / b)/db = -a/b²。"), **_NORM},
       examples=("(F.normalize(w, dim=1) * u).sum()", "(F.normalize(w, p=1, dim=0) * u).sum()")),
]}

# operators, indexing and the losses: spelled by the parser itself, here for their rules
OPS.update({op.name: op for op in [
    Op("+", spell="", worked={"AddBackward0": "broadcast"}, rules={"AddBackward0": ("d(a + b)/da = 1 and d(a + b)/db = 1: addition passes the gradient on "
                                              "unchanged (summed over any broadcast dimension).",
                                              "d(a + b)/da = 1,d(a + b)/db = 1:加法把梯度原样传下去(广播的维度上求和)。")}),
    Op("-", spell="", worked={"SubBackward0": "broadcast"}, rules={"SubBackward0": ("d(a - b)/da = 1 and d(a - b)/db = -1.", "d(a - b)/da = 1,d(a - b)/db = -1。"),
                             "RsubBackward1": ("d(c - x)/dx = -1.", "d(c - x)/dx = -1。")}),
    Op("*", spell="", rules={"MulBackward0": ("d(a * b)/da = b and d(a * b)/db = a: each input gets the gradient times "
                                              "the other input.", "d(a * b)/da = b,d(a * b)/db = a:每个输入得到「梯度 × 另一个输入」。")}),
    Op("/", weight=3, spell="", rules={"DivBackward0": ("d(a / b)/da = 1/b and d(a / b)/db = -a/b².", "d(a / b)/da = 1/b,d(a / b)/db = -a/b²。")}),
    Op("**", weight=4, spell="", rules=_POW),
    Op("[]", spell="", rules=_moves("SelectBackward0", "SliceBackward0")),
    Op("mse_loss", spell="", examples=("F.mse_loss(w, u)", "torch.nn.MSELoss(reduction='sum')(w, u)"), worked={"MseLossBackward0": "mse"}, rules={"MseLossBackward0": ("mse = mean((z - y)²), so d mse/dz = 2·(z - y)/N.",
                                                         "mse = mean((z - y)²),所以 d mse/dz = 2·(z - y)/N。")}),
    Op("binary_cross_entropy", batch_weight=60, weight=16, spell="", examples=("F.binary_cross_entropy(torch.sigmoid(w), torch.sigmoid(u).detach())",), rules={"BinaryCrossEntropyBackward0": (
        "bce = -mean(y·ln p + (1-y)·ln(1-p)), so d bce/dp = (p - y) / (p·(1 - p)) / N.",
        "bce = -mean(y·ln p + (1-y)·ln(1-p)),所以 d bce/dp = (p - y) / (p·(1 - p)) / N。")}),
    Op("binary_cross_entropy_with_logits", batch_weight=60, weight=3, spell="", examples=("F.binary_cross_entropy_with_logits(w, torch.sigmoid(u).detach())",), rules={"BinaryCrossEntropyWithLogitsBackward0": (
        "With logits z: d bce/dz = (σ(z) - y)/N.", "对 logits z:d bce/dz = (σ(z) - y)/N。")}),
    Op("smooth_l1_loss", spell="", examples=("F.smooth_l1_loss(w, u)",), rules={"SmoothL1LossBackward0": (
        "d/dz = (z - y)/β where |z - y| < β, else sign(z - y); divided by N.",
        "|z - y| < β 时 d/dz = (z - y)/β,否则为 sign(z - y);再除以 N。")}),
    Op("huber_loss", spell="", examples=("F.huber_loss(w, u)",), rules={"HuberLossBackward0": (
        "d/dz = (z - y) where |z - y| < δ, else δ·sign(z - y); divided by N.",
        "|z - y| < δ 时 d/dz = z - y,否则为 δ·sign(z - y);再除以 N。")}),
    Op("cross_entropy", batch_weight=10, weight=2, spell="", examples=("F.cross_entropy(w, torch.tensor([0, 2]))",), rules={**_LOG_SOFTMAX, "NllLossBackward0": (
        "nll picks -log p of the target class: gradient -1/N there, 0 elsewhere.",
        "nll 取目标类别的 -log p:该处梯度为 -1/N,其余为 0。")}),
]})

FUNCTIONS = {n: getattr(torch, n) for n, op in OPS.items() if "t" in op.spell}
F_FUNCTIONS = {n: getattr(F, n) for n, op in OPS.items() if "f" in op.spell}
METHOD_FNS = {n: getattr(torch.Tensor, n) for n, op in OPS.items() if "m" in op.spell}
BARE = tuple(n for n, op in OPS.items() if op.bare)


def rules() -> dict[str, tuple[str, str]]:
    """grad_fn class name -> (en, zh), from every entry."""
    out = {}
    for op in OPS.values():
        for k, v in op.rules.items():
            out.setdefault(k, v)
    return out


def worked() -> dict[str, str]:
    """grad_fn class name -> the kind of worked-out numbers its step shows, from every entry."""
    out = {}
    for op in OPS.values():
        for k, v in op.worked.items():
            out.setdefault(k, v)
    return out


KINKS = {n: op.kink for n, op in OPS.items() if op.kink}


def check_inside(op: Op, field: str, args, kwargs=None) -> Inside:
    """What the op does inside (held in bytes), refused by name beyond MAX_INTERMEDIATE."""
    if op.inside is None:
        return Inside()
    inside = op.inside(field, args, kwargs)
    if inside.held > L.MAX_INTERMEDIATE * 2:
        raise ExplorerError("too_many_elements", field, what=Bi((f"'{op.name}' inside", f"'{op.name}' 内部")),
                            count=inside.held, limit=L.MAX_INTERMEDIATE)
    return inside._replace(held=4 * inside.held)
