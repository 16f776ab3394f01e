"""Rows of the op table: ops that move values around (shapes, joins, indexing, picking elements)."""
from __future__ import annotations

from .op import Op

MOVES = ("Only moves values around (view, transpose, index): the gradient is moved back to where each value came "
         "from, unchanged; positions that were not used get 0.",
         "只移动数值(变形、转置、索引):梯度被原样送回每个值原来的位置,没有用到的位置得到 0。")
SHAPES = ("ViewBackward0", "UnsafeViewBackward0", "ReshapeAliasBackward0", "CloneBackward0")


def moves(*names):
    return {n: MOVES for n in names}


PICKS = ("Picks elements by index: each picked element's gradient goes back to where it was picked from (added up "
         "where one was picked more than once); the elements not picked get 0.",
         "按索引挑选元素:每个被挑中的元素的梯度送回它原来的位置(同一个元素被挑中多次时相加);没被挑中的元素得到 0。")
IN_PLACE_VIEW = {
    "CopySlices": ("An in-place change to part of a tensor (a view, like y[0] += 1): autograd records it on the whole "
                   "tensor. The gradient of the changed part goes through the in-place operation's own rule; the "
                   "untouched part passes it on unchanged.",
                   "对张量的一部分(一个视图,例如 y[0] += 1)做原地修改:autograd 把它记在整个张量上。被修改的部分按该原地运算"
                   "自己的规则传梯度;没动的部分把梯度原样传下去。"),
    "AsStridedBackward0": ("The view seen again after an in-place change to it: the gradient is moved back to where "
                           "each of its values sits in the whole tensor.",
                           "原地修改之后重新得到的视图:梯度被送回它的每个值在整个张量中的位置。"),
}

ROWS = [
    Op("transpose", params=("dim0", "dim1"), need=2, rules=moves("TransposeBackward0"),
       examples=("(u @ w.transpose(0, 1)).sum()", "(torch.transpose(w, 0, 1) * x).sum()")),
    Op("permute", params=("dims",), need=1, sizes=True, rules=moves("PermuteBackward0"),
       examples=("(w.permute(1, 0) * x).sum()", "(torch.permute(w, (1, 0)) * x).sum()")),
    Op("t", rules=moves("TBackward0"), examples=("(w.t() * x).sum()", "(torch.t(w) * x).sum()")),
    Op("T", spell="a", rules=moves("TBackward0", "PermuteBackward0"), examples=("(w.T * x).sum()",)),
    Op("mT", spell="a", rules=moves("TransposeBackward0"), examples=("(w.mT * x).sum()",)),
    Op("reshape", params=("shape",), need=1, sizes=True, rules=moves(*SHAPES),
       examples=("(w.reshape(3, 2) * x).sum()", "(torch.reshape(w, (3, 2)) * x).sum()", "w.reshape(-1).sum()",
                 "w.reshape(w.size(1), -1).sum()")),
    Op("view", spell="m", params=("size",), need=1, sizes=True, rules=moves(*SHAPES),
       examples=("(w.view(3, 2) * x).sum()", "w.view(len(w), -1).sum()")),
    Op("flatten", params=("start_dim", "end_dim"), rules=moves(*SHAPES),
       examples=("(w.flatten() * w.flatten()).sum()", "torch.flatten(w).sum()", "w.flatten(start_dim=0).sum()")),
    Op("squeeze", params=("dim",), kinds={"dim": "dims"},
       rules=moves("SqueezeBackward0", "SqueezeBackward1", "SqueezeBackward2", "SqueezeBackward3", "SqueezeBackward4"),
       examples=("(w.unsqueeze(0).squeeze(0) * u).sum()", "torch.squeeze(w.unsqueeze(0)).sum()")),
    Op("unsqueeze", params=("dim",), need=1, rules=moves("UnsqueezeBackward0"),
       examples=("(w.unsqueeze(1) * w.unsqueeze(0)).sum()", "torch.unsqueeze(v, 0).sum()")),
    Op("expand", spell="m", params=("size",), need=1, sizes=True,
       rules={"ExpandBackward0": ("expand repeats values without copying them: each value's gradient is the sum over "
                                  "all its repeats.", "expand 不复制地重复数值:每个值的梯度是它所有重复位置的梯度之和。")},
       examples=("(v.expand(2, 3) * w).sum()", "(v.unsqueeze(0).expand(4, -1)).sum()")),
    Op("cat", spell="t", first="tensors", params=("dim",),
       rules={"CatBackward0": ("cat only places inputs side by side: each input gets its own slice of the gradient "
                               "back.", "cat 只是把输入拼在一起:每个输入取回梯度中属于自己的那一段。")},
       examples=("torch.cat([w, u]).sum()", "(torch.cat([w, u], dim=1) ** 2).sum()", "torch.cat([v, v * 2]).sum()")),
    Op("stack", spell="t", first="tensors", params=("dim",),
       rules={"StackBackward0": ("stack puts inputs along a new dimension: each input gets its slice of the gradient "
                                 "back.", "stack 沿新维度叠放输入:每个输入取回梯度中属于自己的那一片。")},
       examples=("(torch.stack([w, u]) ** 2).sum()", "torch.stack([w, u], dim=2).sum()")),
    Op("[]", spell="", batch_weight=25, rules={**moves("SelectBackward0", "SliceBackward0", "UnsqueezeBackward0", "AliasBackward0"),
                              "IndexBackward0": PICKS, **IN_PLACE_VIEW},
       examples=("w[0].sum() + w[:, 1].sum()", "(w[:, None, :] * w[None]).sum()", "w[..., 0].sum() + w[...].sum()",
                 "w[w > 0].sum()", "w[torch.arange(2), torch.tensor([0, 2])].sum()", "(w[[1, 0]] * u).sum()",
                 "w[u > 0.5].sum() + w[:, v > 0].sum()")),
    Op("gather", params=("dim", "index"), need=2,
       rules={"GatherBackward0": PICKS},
       examples=("w.gather(1, torch.tensor([[0], [2]])).sum()", "torch.gather(w, 0, torch.tensor([[1, 0, 1]])).sum()")),
    Op("index_select", params=("dim", "index"), need=2,
       rules={"IndexSelectBackward0": PICKS},
       examples=("w.index_select(1, torch.tensor([0, 2])).sum()", "torch.index_select(w, 0, torch.tensor([1, 1])).sum()")),
    Op("tril", params=("diagonal",),
       rules={"TrilBackward0": ("Keeps the lower triangle: the gradient passes there and is 0 above it.",
                                "保留下三角:那里梯度照常传递,上方为 0。")},
       examples=("torch.tril(w).sum()", "(w.tril(1) * u).sum()")),
    Op("triu", params=("diagonal",),
       rules={"TriuBackward0": ("Keeps the upper triangle: the gradient passes there and is 0 below it.",
                                "保留上三角:那里梯度照常传递,下方为 0。")},
       examples=("torch.triu(w).sum()", "(w.triu(diagonal=-1) * u).sum()")),
    Op("diag", params=("diagonal",),
       rules={"DiagonalBackward0": ("Takes the diagonal: the gradient goes back onto the diagonal, 0 elsewhere.",
                                    "取对角线:梯度送回对角线上,其余为 0。"),
              "DiagonalBackward0_copy": ("Takes the diagonal: the gradient goes back onto the diagonal, 0 elsewhere.",
                                         "取对角线:梯度送回对角线上,其余为 0。"),
              "DiagEmbedBackward0": ("Puts a vector on a matrix's diagonal: each element gets the gradient of its "
                                     "place on the diagonal.", "把向量放到矩阵的对角线上:每个元素得到它在对角线上位置的梯度。")},
       examples=("torch.diag(w).sum()", "(torch.diag(v) @ x).sum()", "w.diag(1).sum()")),
]
