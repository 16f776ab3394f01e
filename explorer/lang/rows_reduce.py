"""Rows of the op table: reductions, and the sizes of a tensor as numbers."""
from __future__ import annotations

from . import sizing as S
from .op import Op

TIES = ("Several elements tie for the extreme: PyTorch shares the gradient equally among them (1/k each; along a dim "
        "all of it goes to the one at .indices). Nudging one tied element moves the result on one side only, so the "
        "estimate gives each 0.5.",
        "有几个元素并列最大（或最小）：PyTorch 把梯度平分给它们（每个 1/k；沿 dim 时全部给 .indices 指向的那个）。"
        "微调其中一个只会在一侧改变结果，所以数值估计给每个都是 0.5。")
NORM = {"NormBackward1": ("d‖x‖/dx = x / ‖x‖.", "d‖x‖/dx = x / ‖x‖。"),
        "LinalgVectorNormBackward0": ("d‖x‖/dx = x / ‖x‖ (for p = 2; xᵢ|xᵢ|ᵖ⁻² / ‖x‖ᵖ⁻¹ in general).",
                                      "d‖x‖/dx = x / ‖x‖(p = 2 时;一般为 xᵢ|xᵢ|ᵖ⁻² / ‖x‖ᵖ⁻¹)。")}
MAX = {"MaxBackward1": ("max() of all elements: the gradient goes to the largest element (shared equally if several "
                        "are largest); every other element gets 0.",
                        "对全部元素取 max():梯度只给最大的那个元素(并列最大时平分),其余元素得到 0。"),
       "MaxBackward0": ("max along dim: in each slice the gradient goes to the element at .indices (the largest); the "
                        "others get 0.", "沿 dim 取最大值:每一段里梯度只给 .indices 指向的元素(最大的那个),其余得到 0。"),
       "MaximumBackward0": ("The gradient goes to the larger input at each position (half each on a tie).",
                            "每个位置梯度给较大的那个输入(相等时各一半)。")}
MIN = {"MinBackward1": ("min() of all elements: the gradient goes to the smallest element (shared equally if several "
                        "are smallest); every other element gets 0.",
                        "对全部元素取 min():梯度只给最小的那个元素(并列最小时平分),其余元素得到 0。"),
       "MinBackward0": ("min along dim: in each slice the gradient goes to the element at .indices (the smallest); "
                        "the others get 0.", "沿 dim 取最小值:每一段里梯度只给 .indices 指向的元素(最小的那个),其余得到 0。"),
       "MinimumBackward0": ("The gradient goes to the smaller input at each position (half each on a tie).",
                            "每个位置梯度给较小的那个输入(相等时各一半)。")}
DIMS = {"dim": "dims"}

ROWS = [
    Op("sum", params=("dim", "keepdim"), kinds=DIMS, bare=True,
       rules={"SumBackward0": ("d(sum x)/dxᵢ = 1: the gradient is copied to every element.",
                               "d(sum x)/dxᵢ = 1:梯度被复制给每一个元素。"),
              "SumBackward1": ("d(sum x)/dxᵢ = 1 along the summed dimension.", "沿求和的维度 d(sum x)/dxᵢ = 1。")},
       examples=("torch.sum(w) + w.sum(dim=0).sum()", "w.sum(1, keepdim=True).sum()", "w.sum(dim=(0, 1))")),
    Op("mean", params=("dim", "keepdim"), kinds=DIMS, bare=True,
       rules={"MeanBackward0": ("d(mean x)/dxᵢ = 1/N: every element gets an equal share.",
                                "d(mean x)/dxᵢ = 1/N:每个元素分到相同的一份。"),
              "MeanBackward1": ("d(mean x)/dxᵢ = 1/N along the averaged dimension.", "沿求平均的维度 d(mean x)/dxᵢ = 1/N。")},
       examples=("torch.mean(w) + w.mean(dim=1).sum()", "w.mean(dim=(0, 1))", "torch.mean(w, (1,), True).sum()")),
    Op("prod", weight=2, params=("dim", "keepdim"), inside=S.like_input,
       rules={"ProdBackward0": ("d(prod x)/dxᵢ = the product of all the other elements.",
                                "d(prod x)/dxᵢ = 其余所有元素的乘积。"),
              "ProdBackward1": ("Along dim: d(prod x)/dxᵢ = the product of the other elements of its slice.",
                                "沿 dim:d(prod x)/dxᵢ = 同一段中其余元素的乘积。")},
       examples=("w.prod()", "torch.prod(w, dim=1).sum()")),
    Op("max", weight=3, batch_weight=12, params=("dim", "keepdim"), keywords=("other",), kinds={"dim": "value"},
       pair=True, rules=MAX, kink=(S.ties(True), TIES),
       examples=("w.max()", "torch.max(w, dim=1).values.sum()", "w.max(0).values.sum()", "torch.max(w, u).sum()")),
    Op("min", weight=3, batch_weight=12, params=("dim", "keepdim"), keywords=("other",), kinds={"dim": "value"},
       pair=True, rules=MIN, kink=(S.ties(False), TIES),
       examples=("w.min()", "torch.min(w, dim=0).values.sum()", "torch.min(w, other=u).sum()")),
    Op("amax", weight=3, params=("dim", "keepdim"), kinds=DIMS, kink=(S.ties(True), TIES),
       rules={"AmaxBackward0": ("The gradient goes to the largest element(s), shared equally among ties; the others "
                                "get 0.", "梯度给最大的元素(并列时平分),其余得到 0。")},
       examples=("w.amax(dim=1).sum()", "torch.amax(w)", "torch.amax(w, dim=(0, 1))")),
    Op("amin", weight=3, params=("dim", "keepdim"), kinds=DIMS, kink=(S.ties(False), TIES),
       rules={"AminBackward0": ("The gradient goes to the smallest element(s), shared equally among ties; the others "
                                "get 0.", "梯度给最小的元素(并列时平分),其余得到 0。")},
       examples=("w.amin(dim=1).sum()",)),
    Op("std", batch_weight=30, weight=2, params=("dim", "unbiased", "keepdim"), keywords=("correction",), kinds=DIMS,
       inside=S.like_input,
       rules={"StdBackward0": ("d std/dxᵢ = (xᵢ - mean) / ((N - correction)·std).",
                               "d std/dxᵢ = (xᵢ - mean) / ((N - correction)·std)。")},
       examples=("w.std()", "torch.std(w, dim=1).sum()", "w.std(correction=0)", "w.std(dim=(0, 1), unbiased=False)")),
    Op("var", batch_weight=30, weight=3, params=("dim", "unbiased", "keepdim"), keywords=("correction",), kinds=DIMS,
       inside=S.like_input,
       rules={"VarBackward0": ("d var/dxᵢ = 2·(xᵢ - mean) / (N - correction).",
                               "d var/dxᵢ = 2·(xᵢ - mean) / (N - correction)。")},
       examples=("w.var()", "torch.var(w, dim=0).sum()", "w.var(1, keepdim=True).sum()")),
    Op("norm", weight=2, params=("p", "dim", "keepdim"), kinds={"p": "norm", "dim": "dims"}, inside=S.norm, rules=NORM,
       examples=("w.norm()", "torch.norm(w, dim=1).sum()", "w.norm(p=1)", "torch.norm(w, 'fro', dim=(0, 1))")),
    Op("logsumexp", weight=4, params=("dim", "keepdim"), need=1, kinds=DIMS, inside=S.like_input,
       rules={"LogsumexpBackward0": ("d logsumexp(x)/dxᵢ = softmax(x)ᵢ.", "d logsumexp(x)/dxᵢ = softmax(x)ᵢ。")},
       examples=("torch.logsumexp(w, dim=1).sum()", "w.logsumexp(0).sum()")),
    Op("cumsum", weight=3, params=("dim",), need=1, inside=S.like_input,
       rules={"CumsumBackward0": ("Each xᵢ is in every later partial sum, so it gets the sum of the arriving gradients "
                                  "from position i on (a cumulative sum in reverse).",
                                  "每个 xᵢ 出现在它之后的所有部分和里,所以得到从位置 i 起传来梯度之和(反向累加)。")},
       examples=("torch.cumsum(w, dim=1).sum()", "(w.cumsum(0) * u).sum()")),
    # sizes, as Python numbers: they carry no gradient
    Op("numel", number=True, examples=("w.sum() / w.numel()", "(w * torch.numel(v)).sum()")),
    Op("size", spell="m", params=("dim",), need=1, number=True, examples=("(w * w.size(1)).sum()",
                                                                          "w.sum() / w.size(dim=0)")),
    Op("dim", spell="m", number=True, examples=("(w ** w.dim()).sum()",)),
    Op("len", spell="b", number=True, examples=("w.sum() / len(w)", "(v * len(v)).sum()")),
    Op("shape", spell="a", number=True, examples=("(w * w.shape[0]).sum()", "w.sum() / w.shape[-1]")),
    Op("ndim", spell="a", number=True, examples=("(w * w.ndim).sum()",)),
]
