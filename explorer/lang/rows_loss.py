"""Rows of the op table: the losses, spelled F.name(z, y) and as modules, torch.nn.NameLoss()(z, y)."""
from __future__ import annotations

from . import sizing as S
from .op import Op
from .rows_linalg import LOG_SOFTMAX

NLL = {"NllLossBackward0": ("nll picks -log p of the target class: gradient -1/N there, 0 elsewhere (each class "
                            "scaled by its weight, if given).",
                            "nll 取目标类别的 -log p:该处梯度为 -1/N,其余为 0(给了 weight 时再乘该类别的权重)。")}
SMOOTHING = {"MaskedFillBackward0": ("Positions filled with a constant get no gradient; the others pass it on.",
                                     "被填成常数的位置没有梯度;其余位置照常传递。"),
             "NegBackward0": ("d(-x)/dx = -1.", "d(-x)/dx = -1。"),
             "SumBackward1": ("d(sum x)/dxᵢ = 1 along the summed dimension.", "沿求和的维度 d(sum x)/dxᵢ = 1。")}
L1 = {"MeanBackward0": ("d(mean x)/dxᵢ = 1/N: every element gets an equal share.", "d(mean x)/dxᵢ = 1/N:每个元素分到相同的一份。"),
      "AbsBackward0": ("d |x|/dx = sign(x).", "d |x|/dx = sign(x)。"),
      "SubBackward0": ("d(a - b)/da = 1 and d(a - b)/db = -1.", "d(a - b)/da = 1,d(a - b)/db = -1。")}


ROWS = [
    Op("mse_loss", spell="f", params=("target",), need=1, keywords=("reduction", "weight"), bare=True, module="MSELoss",
       module_keywords=("reduction",),
       target="same", inside=S.elementwise_loss, worked={"MseLossBackward0": "mse"},
       rules={"MseLossBackward0": ("mse = mean((z - y)²), so d mse/dz = 2·(z - y)/N.",
                                   "mse = mean((z - y)²),所以 d mse/dz = 2·(z - y)/N。")},
       examples=("F.mse_loss(w, u)", "torch.nn.MSELoss(reduction='sum')(w, u)")),
    Op("l1_loss", spell="f", params=("target",), need=1, keywords=("reduction", "weight"), bare=True, module="L1Loss",
       module_keywords=("reduction",),
       target="same", inside=S.elementwise_loss, rules=L1, examples=("F.l1_loss(w, u)", "torch.nn.L1Loss()(w, u)")),
    Op("smooth_l1_loss", spell="f", params=("target",), need=1, keywords=("reduction", "beta"), bare=True,
       module="SmoothL1Loss", target="same", inside=S.elementwise_loss,
       rules={"SmoothL1LossBackward0": ("d/dz = (z - y)/β where |z - y| < β, else sign(z - y); divided by N.",
                                        "|z - y| < β 时 d/dz = (z - y)/β,否则为 sign(z - y);再除以 N。")},
       examples=("F.smooth_l1_loss(w, u)", "F.smooth_l1_loss(w, u, beta=0.5)",
                 "torch.nn.SmoothL1Loss(beta=0.25)(w, u)")),
    Op("huber_loss", spell="f", params=("target",), need=1, keywords=("reduction", "delta", "weight"), bare=True,
       module="HuberLoss", module_keywords=("reduction", "delta"), target="same", inside=S.elementwise_loss,
       rules={"HuberLossBackward0": ("d/dz = (z - y) where |z - y| < δ, else δ·sign(z - y); divided by N.",
                                     "|z - y| < δ 时 d/dz = z - y,否则为 δ·sign(z - y);再除以 N。")},
       examples=("F.huber_loss(w, u)", "F.huber_loss(w, u, delta=0.5)", "torch.nn.HuberLoss(delta=0.5)(w, u)")),
    Op("binary_cross_entropy", batch_weight=60, weight=16, spell="f", params=("target",), need=1,
       keywords=("weight", "reduction"), bare=True, module="BCELoss", target="same", inside=S.elementwise_loss,
       rules={"BinaryCrossEntropyBackward0": (
           "bce = -mean(y·ln p + (1-y)·ln(1-p)), so d bce/dp = (p - y) / (p·(1 - p)) / N (times weight, if given).",
           "bce = -mean(y·ln p + (1-y)·ln(1-p)),所以 d bce/dp = (p - y) / (p·(1 - p)) / N(给了 weight 时再乘它)。")},
       examples=("F.binary_cross_entropy(torch.sigmoid(w), torch.sigmoid(u).detach())",
                 "F.binary_cross_entropy(torch.sigmoid(w), torch.sigmoid(u).detach(), weight=torch.tensor([1., 2., 3.]))")),
    Op("binary_cross_entropy_with_logits", batch_weight=60, weight=3, spell="f", params=("target",), need=1,
       keywords=("weight", "reduction", "pos_weight"), bare=True, module="BCEWithLogitsLoss", target="same",
       inside=S.elementwise_loss,
       rules={"BinaryCrossEntropyWithLogitsBackward0": (
           "With logits z: d bce/dz = (σ(z) - y)/N (pos_weight scales the positive term, weight each element).",
           "对 logits z:d bce/dz = (σ(z) - y)/N(pos_weight 放大正类那一项,weight 给每个元素加权)。")},
       examples=("F.binary_cross_entropy_with_logits(w, torch.sigmoid(u).detach())",
                 "F.binary_cross_entropy_with_logits(w, torch.sigmoid(u).detach(), pos_weight=torch.tensor([1., 3., 0.5]))",
                 "torch.nn.BCEWithLogitsLoss(pos_weight=torch.ones(3) * 2)(w, torch.sigmoid(u).detach())")),
    Op("cross_entropy", batch_weight=10, weight=2, spell="f", params=("target",), need=1,
       keywords=("weight", "ignore_index", "reduction", "label_smoothing"), bare=True, module="CrossEntropyLoss",
       target="classes", inside=S.rows_loss, rules={**LOG_SOFTMAX, **NLL, **SMOOTHING},
       examples=("F.cross_entropy(w, torch.tensor([0, 2]))", "F.cross_entropy(w, torch.tensor([0, 2]), label_smoothing=0.1)",
                 "F.cross_entropy(w, torch.tensor([1, 2]), weight=torch.tensor([1., 2., 0.5]), ignore_index=1)",
                 "torch.nn.CrossEntropyLoss(label_smoothing=0.2)(w, torch.softmax(u, dim=1))")),
    Op("nll_loss", weight=2, spell="f", params=("target",), need=1, keywords=("weight", "ignore_index", "reduction"),
       module="NLLLoss", inside=S.elementwise_loss, rules=NLL,
       examples=("F.nll_loss(F.log_softmax(w, dim=1), torch.tensor([0, 2]))",
                 "torch.nn.NLLLoss()(torch.log_softmax(w, dim=1), torch.tensor([2, 0]))",
                 "F.nll_loss(torch.log_softmax(w, dim=1), torch.tensor([1, 1]), reduction='sum')")),
    Op("kl_div", weight=5, batched=False, spell="f", params=("target",), need=1, keywords=("reduction", "log_target"),
       module="KLDivLoss", inside=S.pairwise, kinds={"reduction": ("mean", "sum", "none", "batchmean")},
       rules={"KlDivBackward0": ("kl_div(input, target) = target·(ln target - input): d/d input = -target (divided by "
                                 "N for 'mean', by the batch size for 'batchmean').",
                                 "kl_div(input, target) = target·(ln target - input):对 input 的导数为 -target"
                                 "('mean' 时再除以 N,'batchmean' 时除以批大小)。"),
              "XlogyBackward0": ("xlogy(t, t) = t·ln t, the target's own term: d/dt = ln t + 1.",
                                 "xlogy(t, t) = t·ln t,即目标自身的那一项:d/dt = ln t + 1。")},
       examples=("F.kl_div(F.log_softmax(w, dim=1), torch.softmax(u, dim=1), reduction='batchmean')",
                 "F.kl_div(F.log_softmax(w, dim=1), F.log_softmax(u, dim=1), reduction='sum', log_target=True)",
                 "torch.nn.KLDivLoss(reduction='batchmean')(F.log_softmax(w, dim=1), torch.softmax(u, dim=1))")),
]
