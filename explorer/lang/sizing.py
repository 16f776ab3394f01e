"""What ops do inside, for the dry run (`Inside`), and where their inputs sit on a corner (kinks).

Every function here reads a call's arguments bound to PyTorch's parameter names (`Op.bind`), as meta
tensors in the dry run: only shapes, nothing computed. A row of the op table names the one it needs.
"""
from __future__ import annotations

import math
import re

import torch

from .. import limits as L
from ..errors import Bi, ExplorerError
from .op import Inside


def _tensor(x):
    return x if isinstance(x, torch.Tensor) else None


def like_input(field, bound):
    """Softmax, cumsum, std and friends keep a temporary the size of their input, and work row by row
    along `dim` (all of it as one row without a dim, or over several dims at once)."""
    x = _tensor(bound.get("input"))
    if x is None:
        return Inside()
    n = x.numel()
    dim = bound.get("dim")
    dims = dim if isinstance(dim, (tuple, list)) else (dim,) if isinstance(dim, int) else ()
    length = math.prod(x.shape[d] for d in dims if -x.dim() <= d < max(1, x.dim())) if dims and x.dim() else n
    return Inside(n, 2 * n, rows=n // length if length else 0)


def elementwise_loss(field, bound):
    """A loss keeps its elementwise terms before reducing them."""
    x = _tensor(bound.get("input"))
    return Inside(x.numel()) if x is not None else Inside()


def rows_loss(field, bound):
    """cross_entropy: a log_softmax over each row first, then the elementwise terms."""
    x = _tensor(bound.get("input"))
    if x is None:
        return Inside()
    rows = x.numel() // max(1, x.shape[1]) if x.dim() > 1 else 1
    return Inside(x.numel(), rows=rows)


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


def matmul(field, bound):
    a, b = _tensor(bound.get("input")), _tensor(bound.get("other"))
    if a is None or b is None:
        raise ExplorerError("bad_argument", field, func="@ / matmul", detail="needs tensors on both sides")
    sa, sb = tuple(a.shape), tuple(b.shape)
    if a.dim() == 0 or b.dim() == 0 or sa[-1] != (sb[0] if b.dim() == 1 else sb[-2]):
        raise ExplorerError("shape_mismatch", field, op="matrix multiplication @", left=sa, right=sb)
    return size_matmul(field, sa, sb)


def products(field, bound):
    """mm, bmm, dot, mv, outer: every output element is a dot product over the shared dimension, so the
    multiply-adds are the output's size times that dimension (the same count `@` is charged)."""
    a = _tensor(bound.get("input"))
    b = next((_tensor(bound.get(k)) for k in ("mat2", "tensor", "vec2", "other") if _tensor(bound.get(k)) is not None),
             None)
    if a is None or b is None or a.dim() == 0 or b.dim() == 0:
        return Inside()
    inner = a.shape[-1] if "vec2" not in bound else 1
    rows = a.numel() // max(1, inner)
    cols = b.shape[-1] if b.dim() > 1 or "vec2" in bound else 1
    return Inside(flops=rows * inner * cols)


def addmm(field, bound):
    """addmm(b, x, W): the product of x and W, then b added to every row."""
    x, w = _tensor(bound.get("mat1")), _tensor(bound.get("mat2"))
    if x is None or w is None or x.dim() != 2 or w.dim() != 2:
        return Inside()
    return Inside(flops=x.shape[0] * x.shape[1] * w.shape[-1])


def linear(field, bound):
    """F.linear(x, W): x (..., k) times W (m, k) transposed: every row of x meets every row of W."""
    x, w = _tensor(bound.get("input")), _tensor(bound.get("weight"))
    if x is None or w is None or x.dim() == 0:
        return Inside()
    return Inside(flops=x.numel() * (w.shape[0] if w.dim() > 1 else 1))


def pairwise(field, bound):
    """An op of two tensors that broadcasts them first (kl_div, cosine_similarity, pairwise_distance): the
    broadcast temporaries are made inside even when the result is small ((1, N) against (N, 1) builds N × N)."""
    first = bound.get("input", bound.get("x1"))
    second = bound.get("target", bound.get("x2"))
    tensors = [x for x in (first, second) if isinstance(x, torch.Tensor)]
    if len(tensors) < 2:
        return Inside()
    try:
        n = math.prod(torch.broadcast_shapes(*(t.shape for t in tensors)))
    except RuntimeError:
        raise ExplorerError("shape_mismatch", field, op="the two inputs", left=tuple(tensors[0].shape),
                            right=tuple(tensors[1].shape)) from None
    return Inside(3 * n, 6 * n)


def norm(field, bound):
    """A norm keeps |x|^p the size of its input. A matrix's 2-norm or nuclear norm are its singular values:
    an SVD, whose cost (and its batched cost in the landscape) the budget cannot size, so it is refused."""
    x, dim = _tensor(bound.get("input")), bound.get("dim")
    order = bound["ord"] if "ord" in bound else "nuc" if bound.get("p") == "nuc" else None     # torch.norm's p=2 is a vector's
    matrix = isinstance(dim, (tuple, list)) and len(dim) == 2 or dim is None and x is not None and x.dim() == 2
    if x is not None and matrix and order in (2, -2, "nuc"):
        raise ExplorerError("bad_argument", field, func="torch.linalg.norm",
                            detail=Bi((f"ord={order!r} of a matrix is a singular value (an SVD), which is not offered "
                                       "here: use 'fro', 1 or -1, or a vector norm along dim",
                                       f"矩阵的 ord={order!r} 是奇异值(需要 SVD),这里不提供:请用 'fro'、1 或 -1,"
                                       "或者沿 dim 的向量范数")))
    return like_input(field, bound)


_EQUATION = re.compile(r"[A-Za-z,.\->\s]*\Z")
MAX_OPERANDS = 8


def _letters(term: str, rank: int) -> list:
    """One operand's dimensions named by the equation's letters; an ellipsis's dimensions are named by
    their distance from its right end (#2, #1), so operands broadcast them as PyTorch does."""
    if "..." not in term:
        return list(term)
    head, _, tail = term.partition("...")
    spread = max(0, rank - len(head) - len(tail))
    return list(head) + [f"#{spread - i}" for i in range(spread)] + list(tail)


def einsum(field, bound):
    """torch.einsum sized from its equation: operands are contracted two at a time, left to right, as
    PyTorch does without opt_einsum; each step costs the product of the sizes of every letter it touches,
    and keeps the letters still needed."""
    eq, given = bound.get("equation"), list(bound.get("operands", ()))
    ops = [x for x in given if isinstance(x, torch.Tensor)]
    lhs, arrow, rhs = eq.replace(" ", "").partition("->") if isinstance(eq, str) else ("", "", "")
    terms = lhs.split(",")
    if not ops or len(ops) != len(given) or len(terms) != len(ops):
        return Inside()             # torch names what is wrong
    sizes, letters = {}, []
    for term, t in zip(terms, ops):
        names = _letters(term, t.dim())
        for letter, size in zip(names, t.shape):
            sizes[letter] = max(sizes.get(letter, 1), size)
        letters.append(names)
    every = [x for names in letters for x in names]
    spread = {x for x in every if x.startswith("#")}
    out = set(rhs) | (spread if "..." in rhs else set()) if arrow else \
        {x for x in every if every.count(x) == 1} | spread
    flops = held = 0
    current = set(letters[0])
    for i, nxt in enumerate(letters[1:], 1):
        touched = current | set(nxt)
        flops += math.prod(sizes[x] for x in touched)
        later = {x for names in letters[i + 1:] for x in names}
        current = {x for x in touched if x in out or x in later}
        held += math.prod(sizes[x] for x in current)
    if len(letters) == 1:                                # one operand: a sum or a diagonal, no product
        return Inside(elements=3 * math.prod(sizes[x] for x in set(letters[0])))
    if held > L.MAX_INTERMEDIATE * 2:
        raise ExplorerError("too_many_elements", field, what=Bi(("'einsum' inside", "'einsum' 内部")),
                            count=held, limit=L.MAX_INTERMEDIATE)
    return Inside(held, held, flops)


def check_equation(eq: str, field: str, count: int) -> str:
    """An einsum equation as the parser accepts it: letters, commas, '->', '...'; one term per operand."""
    if len(eq) > 64 or not _EQUATION.match(eq) or eq.count("->") > 1:
        raise ExplorerError("bad_argument", field, func="torch.einsum",
                            detail=Bi(("takes an equation of letters, commas, '->' and '...', like 'ij,jk->ik' "
                                       "(at most 64 characters)",
                                       "需要一个由字母、逗号、'->' 和 '...' 组成的方程，例如 'ij,jk->ik'（最多 64 个字符）")))
    if count > MAX_OPERANDS:
        raise ExplorerError("bad_argument", field, func="torch.einsum",
                            detail=Bi((f"takes at most {MAX_OPERANDS} tensors", f"最多接受 {MAX_OPERANDS} 个张量")))
    return eq


# ---------------------------------------------------------------- kinks: where an input sits on a corner

def _grad_input(bound):
    x = bound.get("input")
    return x if isinstance(x, torch.Tensor) and x.requires_grad and x.is_floating_point() else None


def at_zero(bound):
    x = _grad_input(bound)
    return None if x is None else x == 0


def at_bounds(bound):
    """clamp: x equal to min or max (numbers or tensors)."""
    x = _grad_input(bound)
    if x is None:
        return None
    mask = torch.zeros_like(x, dtype=torch.bool)
    for b in (bound.get("min"), bound.get("max")):
        if b is not None:
            mask |= x == (b.detach() if isinstance(b, torch.Tensor) else b)
    return mask


def _at_ties(bound, largest=True):
    """max/min/amax/amin: elements tied for the extreme of their slice (all, or along dim); with a
    second tensor (torch.max(a, b)) the positions where both are equal."""
    x = _grad_input(bound)
    other = bound.get("other", bound.get("dim"))
    if isinstance(other, torch.Tensor):
        a, b = bound.get("input"), other
        if not ((a.requires_grad or b.requires_grad) and a.is_floating_point()):
            return None
        return (a == b).expand(torch.broadcast_shapes(a.shape, b.shape))
    if x is None or x.numel() == 0:
        return None
    dims = tuple(range(x.dim())) if other is None else other
    top = x.detach().amax(dims, keepdim=True) if largest else x.detach().amin(dims, keepdim=True)
    hit = x == top
    return hit & (hit.sum(dims, keepdim=True) > 1)


def ties(largest):
    return lambda bound: _at_ties(bound, largest)


def at_equal(bound):
    a, b = bound.get("input"), bound.get("other")
    if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and (a.requires_grad or b.requires_grad)):
        return None
    return (a == b).expand(torch.broadcast_shapes(a.shape, b.shape))
