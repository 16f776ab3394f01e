"""Rows of the op table: products, linear algebra, and the ops of neural networks (softmax, dropout, ...)."""
from __future__ import annotations

from . import noise, sizing as S
from .op import Op
from .rows_elementwise import CLAMP, DIV, MUL
from .rows_reduce import NORM
from .rows_shape import MOVES

MATMUL = {
    "MmBackward0": ("Z = X·W: dL/dX = dL/dZ · Wᵀ and dL/dW = Xᵀ · dL/dZ.", "Z = X·W:dL/dX = dL/dZ · Wᵀ,dL/dW = Xᵀ · dL/dZ。"),
    "MvBackward0": ("z = M·v: dL/dM = dL/dz · vᵀ and dL/dv = Mᵀ · dL/dz.", "z = M·v:dL/dM = dL/dz · vᵀ,dL/dv = Mᵀ · dL/dz。"),
    "DotBackward0": ("z = a·b: dL/da = dL/dz · b and dL/db = dL/dz · a.", "z = a·b:dL/da = dL/dz · b,dL/db = dL/dz · a。"),
    "BmmBackward0": ("Z = X·W for each matrix of the batch: dL/dX = dL/dZ · Wᵀ and dL/dW = Xᵀ · dL/dZ.",
                     "对批次中的每个矩阵 Z = X·W:dL/dX = dL/dZ · Wᵀ,dL/dW = Xᵀ · dL/dZ。"),
    "AddmmBackward0": ("Z = B + X·W: as a matrix product, plus the bias gets the gradient summed over rows.",
                       "Z = B + X·W:与矩阵乘法相同,偏置得到按行求和的梯度。"),
    "UnsafeViewBackward0": MOVES, "ExpandBackward0": MOVES, "ViewBackward0": MOVES,
}
SOFTMAX = {"SoftmaxBackward0": ("With s = softmax(z) and arriving g: dL/dz = s·(g - sum(g·s)).",
                                "设 s = softmax(z),传来的梯度为 g:dL/dz = s·(g - sum(g·s))。")}
LOG_SOFTMAX = {"LogSoftmaxBackward0": ("d log_softmax(z)/dz = g - softmax(z)·sum(g).",
                                      "d log_softmax(z)/dz = g - softmax(z)·sum(g)。")}
REDUCED = {"SumBackward1": ("d(sum x)/dxᵢ = 1 along the summed dimension.", "沿求和的维度 d(sum x)/dxᵢ = 1。"),
           "PermuteBackward0": MOVES, **MUL}

ROWS = [
    Op("matmul", batch_weight=25, params=("other",), need=1, inside=S.matmul, bare=True, rules=MATMUL,
       worked={"MmBackward0": "matmul"},
       examples=("torch.matmul(w, x).sum()", "w.matmul(v).sum()", "(u @ w.transpose(0, 1)).sum()")),
    Op("mm", batch_weight=25, params=("mat2",), need=1, inside=S.products, rules=MATMUL,
       worked={"MmBackward0": "matmul"}, examples=("torch.mm(w, x).sum()", "w.mm(x).sum()")),
    Op("dot", batch_weight=25, params=("tensor",), need=1, inside=S.products, rules=MATMUL,
       examples=("torch.dot(v, v)", "v.dot(v * 2)")),
    Op("bmm", batch_weight=25, params=("mat2",), need=1, inside=S.products, rules=MATMUL,
       examples=("torch.bmm(w.unsqueeze(0), x.unsqueeze(0)).sum()",)),
    Op("outer", batch_weight=25, params=("vec2",), need=1, inside=S.products, rules={**MUL, **MATMUL},
       examples=("torch.outer(v, v).sum()", "(v.outer(v[:2]) * x).sum()")),
    Op("addmm", batch_weight=25, params=("mat1", "mat2"), need=2, keywords=("beta", "alpha"), inside=S.addmm,
       rules=MATMUL, examples=("torch.addmm(v, u.t(), w).sum()", "v.addmm(x, w, beta=0.5, alpha=2).sum()")),
    Op("linear", batch_weight=25, spell="f", params=("weight", "bias"), need=1, inside=S.linear, rules=MATMUL,
       examples=("F.linear(w, x.t()).sum()", "F.linear(w, x.t(), v[:2]).sum()", "F.linear(v, w).sum()")),
    Op("trace", rules={"TraceBackward0": ("d trace(X)/dX = I: the gradient goes to the diagonal, 0 elsewhere.",
                                          "d trace(X)/dX = I:梯度只给对角线,其余为 0。")},
       examples=("torch.trace(w)", "(x @ w).trace()")),
    Op("einsum", weight=2, batch_weight=25, spell="t", first="equation", varargs=True,
       inside=S.einsum, rules={**MATMUL, **REDUCED, "DiagonalBackward0": ("Takes the diagonal: the gradient goes back "
                                                                          "onto the diagonal, 0 elsewhere.",
                                                                          "取对角线:梯度送回对角线上,其余为 0。")},
       examples=("torch.einsum('ij,jk->ik', w, x).sum()", "torch.einsum('ij,ij->', w, u)",
                 "torch.einsum('i,j->ij', v, v).sum()", "torch.einsum('ii', x @ w)", "torch.einsum('ij->j', [w]).sum()",
                 "torch.einsum('...j,j->...', w, v).sum()")),
    Op("linalg.norm", spell="l", weight=2, params=("ord", "dim", "keepdim"), kinds={"dim": "dims"}, inside=S.norm,
       rules={**NORM, "AmaxBackward0": ("The gradient goes to the largest element(s), shared equally among "
                                               "ties; the others get 0.", "梯度给最大的元素(并列时平分),其余得到 0。"),
              "SumBackward1": REDUCED["SumBackward1"], "AbsBackward0": ("d |x|/dx = sign(x).", "d |x|/dx = sign(x)。")},
       examples=("torch.linalg.norm(w)", "torch.linalg.norm(w, dim=1).sum()", "torch.linalg.norm(w, ord=1, dim=0).sum()",
                 "torch.linalg.norm(w, 'fro')", "torch.linalg.norm(w, ord=-1)")),
    Op("linalg.vector_norm", spell="l", weight=2, params=("ord", "dim", "keepdim"), kinds={"ord": "number", "dim": "dims"},
       inside=S.norm, rules=NORM,
       examples=("torch.linalg.vector_norm(w)", "torch.linalg.vector_norm(w, ord=3, dim=1).sum()",
                 "torch.linalg.vector_norm(w, 1, (0, 1))")),
    Op("softmax", weight=5, spell="tfm", params=("dim",), inside=S.like_input, rules=SOFTMAX,
       worked={"SoftmaxBackward0": "softmax"},
       examples=("(torch.softmax(w, dim=1) * u).sum()", "(F.softmax(w, dim=0) * u).sum()", "(w.softmax(1) * u).sum()")),
    Op("log_softmax", weight=5, spell="tfm", params=("dim",), inside=S.like_input, rules=LOG_SOFTMAX,
       worked={"LogSoftmaxBackward0": "log_softmax"},
       examples=("(torch.log_softmax(w, dim=1) * u).sum()", "(F.log_softmax(w, dim=1) * u).sum()")),
    Op("normalize", weight=4, spell="f", params=("p", "dim", "eps"), inside=S.like_input,
       rules={"ClampMinBackward0": CLAMP["ClampMinBackward0"], "DivBackward0": DIV["DivBackward0"], **NORM,
              "ExpandBackward0": MOVES},
       examples=("(F.normalize(w, dim=1) * u).sum()", "(F.normalize(w, p=1, dim=0) * u).sum()")),
    Op("cosine_similarity", weight=6, spell="tf", first="x1", params=("x2", "dim", "eps"), need=1, inside=S.pairwise,
       rules={**REDUCED, "DivBackward0": DIV["DivBackward0"], "CloneBackward0": MOVES, **NORM,
              "ClampMinBackward0": CLAMP["ClampMinBackward0"], "ExpandBackward0": MOVES},
       examples=("F.cosine_similarity(w, u).sum()", "torch.cosine_similarity(w, u, dim=0).sum()",
                 "F.cosine_similarity(w, v, eps=1e-6).sum()")),
    Op("pairwise_distance", weight=4, spell="tf", first="x1", params=("x2", "p", "eps", "keepdim"), need=1,
       inside=S.pairwise, rules={**NORM, "AddBackward1": ("d(x + c)/dx = 1 for a number c (here eps).",
                                                          "对数 c(这里是 eps):d(x + c)/dx = 1。"),
                                 "SubBackward0": ("d(a - b)/da = 1 and d(a - b)/db = -1.", "d(a - b)/da = 1,d(a - b)/db = -1。")},
       examples=("F.pairwise_distance(w, u).sum()", "F.pairwise_distance(w, u, p=1, keepdim=True).sum()")),
    Op("dropout", spell="f", params=("p", "training", "inplace"), random=True, call=noise.dropout, rules=MUL,
       examples=("F.dropout(w, 0.5).sum()", "(F.dropout(w, p=0.25) * u).sum()", "F.dropout(w, p=0.0).sum()",
                 "F.dropout(w * 1, 0.5, training=False).sum()", "F.dropout(w * 1, inplace=True).sum()")),
]
