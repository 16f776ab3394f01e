"""Rows of the op table: elementwise ops, arithmetic in its method spellings, conversions."""
from __future__ import annotations

from . import sizing as S
from .op import Op

ABS_KINK = ("PyTorch takes abs′(0) = sign(0) = 0; the estimate averages the slopes −1 and 1, which also gives 0: "
            "here they agree.", "PyTorch 取 abs′(0) = sign(0) = 0；数值估计平均两侧斜率 −1 和 1，也是 0：这里两者一致。")
RELU_KINK = ("PyTorch takes relu′(0) = 0 (ReluBackward passes the gradient only where x > 0); the estimate averages "
             "the slopes 0 and 1 on the two sides and gets 0.5.",
             "PyTorch 取 relu′(0) = 0（ReluBackward 只在 x > 0 处传梯度）；数值估计平均两侧斜率 0 和 1，得到 0.5。")
LEAKY_KINK = ("At x = 0 PyTorch takes the left slope, negative_slope; the estimate averages it with the right slope 1.",
              "x = 0 处 PyTorch 取左侧斜率 negative_slope；数值估计把它和右侧斜率 1 平均。")
BOUNDS = ("At x = min or x = max PyTorch counts x as inside and passes the gradient on (slope 1); the estimate "
          "averages the slopes 1 and 0 and gets 0.5.",
          "x 恰好等于 min 或 max 时，PyTorch 把它算作在范围内，照常传梯度（斜率 1）；数值估计平均两侧斜率 1 和 0，得到 0.5。")
EQUAL = ("Where both inputs are equal PyTorch gives each half of the gradient; the estimate averages the slopes 0 "
         "and 1, also 0.5: here they agree.",
         "两个输入相等处，PyTorch 给每个一半的梯度；数值估计平均两侧斜率 0 和 1，也是 0.5：这里两者一致。")

ADD = {"AddBackward0": ("d(a + b)/da = 1 and d(a + b)/db = 1: addition passes the gradient on unchanged (summed "
                        "over any broadcast dimension; times alpha for b where alpha is given).",
                        "d(a + b)/da = 1,d(a + b)/db = 1:加法把梯度原样传下去(广播的维度上求和;给了 alpha 时 b 再乘 alpha)。"),
       "AddBackward1": ("d(x + c)/dx = 1 for a number c.", "对数 c:d(x + c)/dx = 1。")}
SUB = {"SubBackward0": ("d(a - b)/da = 1 and d(a - b)/db = -1.", "d(a - b)/da = 1,d(a - b)/db = -1。"),
       "SubBackward1": ("d(x - c)/dx = 1 for a number c.", "对数 c:d(x - c)/dx = 1。"),
       "RsubBackward1": ("d(c - x)/dx = -1.", "d(c - x)/dx = -1。")}
MUL = {"MulBackward0": ("d(a * b)/da = b and d(a * b)/db = a: each input gets the gradient times the other input.",
                        "d(a * b)/da = b,d(a * b)/db = a:每个输入得到「梯度 × 另一个输入」。"),
       "MulBackward1": ("d(c · x)/dx = c for a number c.", "对数 c:d(c · x)/dx = c。")}
DIV = {"DivBackward0": ("d(a / b)/da = 1/b and d(a / b)/db = -a/b².", "d(a / b)/da = 1/b,d(a / b)/db = -a/b²。"),
       "DivBackward1": ("d(x / c)/dx = 1/c for a number c.", "对数 c:d(x / c)/dx = 1/c。"),
       "DivBackward2": ("Rounded division is a staircase: flat between its steps, so the gradient is 0 (PyTorch "
                        "gives 0 everywhere).", "取整除法是阶梯函数:台阶之间是平的,所以梯度为 0(PyTorch 处处给 0)。"),
       "DivBackward3": ("Rounded division is a staircase: flat between its steps, so the gradient is 0.",
                        "取整除法是阶梯函数:台阶之间是平的,所以梯度为 0。"),
       "ReciprocalBackward0": ("A number over a tensor, c / x, is recorded as c · (1/x): here d(1/x)/dx = -1/x².",
                               "数除以张量 c / x 被记成 c · (1/x):这里 d(1/x)/dx = -1/x²。")}
POW = {"PowBackward0": ("d(xⁿ)/dx = n·xⁿ⁻¹.", "d(xⁿ)/dx = n·xⁿ⁻¹。"),
       "PowBackward1": ("d(aᵇ)/da = b·aᵇ⁻¹ and d(aᵇ)/db = aᵇ·ln a.", "d(aᵇ)/da = b·aᵇ⁻¹,d(aᵇ)/db = aᵇ·ln a。"),
       "PowBackward2": ("d(aˣ)/dx = aˣ·ln a.", "d(aˣ)/dx = aˣ·ln a。")}
CLAMP = {"ClampBackward1": ("1 where x is inside [min, max], 0 where it was clamped.", "x 在 [min, max] 内为 1,被截断处为 0。"),
         "ClampMinBackward0": ("1 where x ≥ min, 0 where it was clamped.", "x ≥ min 处为 1,被截断处为 0。"),
         "ClampMaxBackward0": ("1 where x ≤ max, 0 where it was clamped.", "x ≤ max 处为 1,被截断处为 0。"),
         "ClampBackward0": ("1 where x is inside [min, max], 0 where it was clamped; a tensor bound gets the gradient "
                            "where it was the value chosen.", "x 在 [min, max] 内为 1,被截断处为 0;作为边界的张量在被选中的位置得到梯度。")}
SAME = ("Passes the gradient on unchanged: the values are the same numbers (a copy, or another dtype of them).",
        "把梯度原样传下去:数值本身不变(只是复制,或换了数据类型)。")

ROWS = [
    Op("abs", bare=True, inplace=True, kink=(S.at_zero, ABS_KINK),
       rules={"AbsBackward0": ("d |x|/dx = sign(x).", "d |x|/dx = sign(x)。")},
       examples=("torch.abs(w - 0.3).sum()", "(w - 0.3).abs().sum()", "(w - 0.3).abs_().sum()")),
    Op("exp", weight=2, bare=True, inplace=True, rules={"ExpBackward0": ("d eˣ/dx = eˣ.", "d eˣ/dx = eˣ。")},
       examples=("torch.exp(w).sum()", "(w * 1).exp_().sum()")),
    Op("log", weight=2, bare=True, inplace=True, rules={"LogBackward0": ("d ln(x)/dx = 1/x.", "d ln(x)/dx = 1/x。")},
       examples=("torch.log(w * w + 1).sum()", "(w * w + 1).log_().sum()")),
    Op("log1p", weight=2, rules={"Log1PBackward0": ("d ln(1 + x)/dx = 1/(1 + x).", "d ln(1 + x)/dx = 1/(1 + x)。")},
       examples=("torch.log1p(w * w).sum()", "(w * w).log1p().sum()")),
    Op("sqrt", weight=2, bare=True, inplace=True, rules={"SqrtBackward0": ("d √x/dx = 1/(2√x).", "d √x/dx = 1/(2√x)。")},
       examples=("torch.sqrt(w * w + 1).sum()", "(w * w + 1).sqrt_().sum()")),
    Op("square", bare=True, rules=POW, examples=("torch.square(w).sum()",)),
    Op("pow", weight=4, params=("exponent",), need=1, inplace=True, exponent="exponent", rules=POW,
       examples=("w.pow(3).sum()", "torch.pow(w, 2).sum()", "torch.pow(w, exponent=2).sum()", "(w * 1).pow_(2).sum()")),
    Op("neg", inplace=True, rules={"NegBackward0": ("d(-x)/dx = -1.", "d(-x)/dx = -1。")},
       examples=("w.neg().sum()", "(w * 2).neg_().sum()")),
    Op("sin", weight=5, bare=True, rules={"SinBackward0": ("d sin(x)/dx = cos(x).", "d sin(x)/dx = cos(x)。")},
       examples=("torch.sin(w).sum()", "w.sin().sum()")),
    Op("cos", weight=5, bare=True, rules={"CosBackward0": ("d cos(x)/dx = -sin(x).", "d cos(x)/dx = -sin(x)。")},
       examples=("torch.cos(w).sum()",)),
    Op("tanh", weight=5, spell="tfm", bare=True, inplace=True,
       rules={"TanhBackward0": ("d tanh(x)/dx = 1 - tanh²(x).", "d tanh(x)/dx = 1 - tanh²(x)。")},
       examples=("torch.tanh(w).sum()", "F.tanh(w).sum()", "(w * 1).tanh_().sum()")),
    Op("sigmoid", spell="tfm", bare=True, inplace=True,
       rules={"SigmoidBackward0": ("dσ(x)/dx = σ(x)·(1 - σ(x)).", "dσ(x)/dx = σ(x)·(1 - σ(x))。")},
       examples=("torch.sigmoid(w).sum()", "F.sigmoid(w).sum()", "(w * 1).sigmoid_().sum()")),
    Op("relu", spell="tfm", bare=True, inplace=True, kink=(S.at_zero, RELU_KINK), params=("inplace",),
       spelled={"inplace": "f"},
       rules={"ReluBackward0": ("d relu(x)/dx = 1 where x > 0, else 0.", "x > 0 时 d relu(x)/dx = 1,否则为 0。")},
       examples=("F.relu(w - 0.3).sum()", "torch.relu(w - 0.3).sum()", "(w - 0.3).relu().sum()",
                 "F.relu(w - 0.3, inplace=True).sum()", "(w - 0.3).relu_().sum()")),
    Op("leaky_relu", spell="f", params=("negative_slope", "inplace"), kink=(S.at_zero, LEAKY_KINK),
       rules={"LeakyReluBackward0": ("1 where x > 0, else negative_slope (0.01 unless given).",
                                     "x > 0 处为 1,否则为 negative_slope(默认 0.01)。"),
              "LeakyReluBackward1": ("In place: 1 where the result is > 0, else negative_slope (read from the result).",
                                     "原地版本:结果 > 0 处为 1,否则为 negative_slope(从结果判断)。")},
       examples=("F.leaky_relu(w - 0.3).sum()", "F.leaky_relu(w - 0.3, negative_slope=0.2).sum()",
                 "F.leaky_relu(w - 0.3, 0.1, True).sum()")),
    Op("gelu", weight=4, spell="f", keywords=("approximate",),
       rules={"GeluBackward0": ("gelu(x) = x·Φ(x), so d/dx = Φ(x) + x·φ(x) (Φ, φ: the normal distribution's CDF and "
                                "density).", "gelu(x) = x·Φ(x),所以 d/dx = Φ(x) + x·φ(x)(Φ、φ:正态分布的分布函数和密度)。")},
       examples=("F.gelu(w).sum()", "F.gelu(w, approximate='tanh').sum()")),
    Op("softplus", weight=4, spell="f", params=("beta", "threshold"),
       rules={"SoftplusBackward0": ("softplus(x) = ln(1 + e^(βx))/β, so d/dx = σ(βx).",
                                    "softplus(x) = ln(1 + e^(βx))/β,所以 d/dx = σ(βx)。")},
       examples=("F.softplus(w).sum()", "F.softplus(w, beta=2).sum()")),
    Op("elu", spell="f", params=("alpha", "inplace"),
       rules={"EluBackward0": ("1 where x > 0, else α·eˣ.", "x > 0 处为 1,否则为 α·eˣ。"),
              "EluBackward1": ("In place: 1 where the result is > 0, else result + α (read from the result).",
                               "原地版本:结果 > 0 处为 1,否则为 结果 + α(从结果计算)。")},
       examples=("F.elu(w - 0.3).sum()", "F.elu(w - 0.3, alpha=0.5).sum()", "F.elu(w * 1, inplace=True).sum()")),
    Op("silu", weight=2, spell="f", params=("inplace",),
       rules={"SiluBackward0": ("silu(x) = x·σ(x), so d/dx = σ(x)·(1 + x·(1 - σ(x))).",
                                "silu(x) = x·σ(x),所以 d/dx = σ(x)·(1 + x·(1 - σ(x)))。")},
       examples=("F.silu(w).sum()",)),
    Op("clamp", weight=6, params=("min", "max"), bare=True, inplace=True, batched_in_place=False,
       promote=("min", "max"), rules=CLAMP,
       kink=(S.at_bounds, BOUNDS),
       examples=("torch.clamp(w, -0.5, 0.5).sum()", "w.clamp(min=0.2).sum()", "w.clamp(max=0.4).sum()",
                 "torch.clamp(w, min=v.sum(), max=1).sum()", "torch.clamp(w, min=u).sum()",
                 "(w * 1).clamp_(min=0.1).sum()")),
    Op("maximum", params=("other",), need=1, kink=(S.at_equal, EQUAL),
       rules={"MaximumBackward0": ("The gradient goes to the larger input at each position (half each on a tie).",
                                   "每个位置梯度给较大的那个输入(相等时各一半)。")},
       examples=("torch.maximum(w, u).sum()", "w.maximum(u).sum()")),
    Op("minimum", params=("other",), need=1, kink=(S.at_equal, EQUAL),
       rules={"MinimumBackward0": ("The gradient goes to the smaller input at each position (half each on a tie).",
                                   "每个位置梯度给较小的那个输入(相等时各一半)。")},
       examples=("torch.minimum(w, u).sum()",)),
    Op("where", spell="t", first="condition", params=("input", "other"), need=2, kinds={"input": "value"},
       rules={"WhereBackward0": ("where(mask, a, b): the gradient goes to a where the mask is True and to b where it "
                                 "is False; the mask itself has no gradient.",
                                 "where(mask, a, b):mask 为 True 处梯度给 a,为 False 处给 b;mask 本身没有梯度。")},
       examples=("torch.where(w > 0.3, w, 0.1 * w).sum()", "torch.where(w > u, w, u).sum()")),
    Op("masked_fill", params=("mask", "value"), need=2, inplace=True, kinds={"mask": "tensor", "value": "number"},
       rules={"MaskedFillBackward0": ("masked_fill(x, mask, value): where the mask is True the result is the value, "
                                      "so x's gradient there is 0; elsewhere it is passed on unchanged.",
                                      "masked_fill(x, mask, value):mask 为 True 处结果是 value,所以那里 x 的梯度为 0;"
                                      "其余位置梯度原样传下去。")},
       examples=("w.masked_fill(w > 0.3, 0.0).sum()", "torch.masked_fill(w, mask=u > 0, value=1.0).sum()",
                 "(w * 1).masked_fill_(u > 0, -1.0).sum()")),
    # arithmetic as methods and functions: the operators' own rules
    Op("add", params=("other",), need=1, keywords=("alpha",), inplace=True, rules=ADD,
       examples=("w.add(u).sum()", "torch.add(w, 1).sum()", "w.add(u, alpha=0.5).sum()", "(w * 1).add_(u).sum()")),
    Op("sub", params=("other",), need=1, keywords=("alpha",), inplace=True, rules=SUB,
       examples=("w.sub(u).sum()", "torch.sub(w, u, alpha=2).sum()", "(w * 1).sub_(0.5).sum()")),
    Op("mul", params=("other",), need=1, inplace=True, rules=MUL,
       examples=("w.mul(u).sum()", "torch.mul(w, 3).sum()", "(w + 0).mul_(w).sum()")),
    Op("div", weight=3, params=("other",), need=1, keywords=("rounding_mode",), inplace=True, rules=DIV,
       examples=("w.div(u * u + 1).sum()", "torch.div(w, 2).sum()", "(w * 1).div_(2).sum()",
                 "(w.div(0.3, rounding_mode='floor') * w).sum()")),
    # conversions that keep the graph (a float32 tensor's .float() is itself)
    Op("float", spell="m", casts=True, rules={"ToCopyBackward0": SAME}, examples=("(w * (u > 0).float()).sum()", "w.float().sum()")),
    Op("long", spell="m", examples=("F.cross_entropy(w, torch.tensor([0., 2.]).long())",)),
    Op("int", spell="m", examples=("(w * (u > 0).int()).sum()",)),
    Op("bool", spell="m", examples=("(w * u.bool()).sum()",)),
    Op("to", spell="m", params=("dtype", "non_blocking", "copy"), need=1, casts=True, rules={"ToCopyBackward0": SAME},
       examples=("w.to(torch.float32).sum()", "(w * (u > 0).to(dtype=torch.float)).sum()")),
    Op("clone", rules={"CloneBackward0": SAME}, examples=("(w.clone() * u).sum()", "torch.clone(w).sum()")),
    Op("contiguous", spell="m", rules={"CloneBackward0": SAME}, examples=("(w.t().contiguous() * x).sum()",)),
    Op("detach", spell="m", cut=True, examples=("(w - w.detach()).sum()", "(w * w.detach()).sum()")),
]
