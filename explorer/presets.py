"""Ready-made experiments: the course's three examples first, then classic lessons.

One table: an example is its experiment, its title in the example box and, for an example that is
there to show one thing, a note under the graph pointing at it (English, Chinese). Adding one is
adding an entry. `detach_target` and `no_detach_target` differ only by `.detach()`, so switching
between them shows the graph lose the target's branch and the gradient change from 8w to -4w.
"""
from typing import NamedTuple

from .experiment import Experiment

SEED_W = ("[[0.5068, 0.7041, -0.3873], [0.2316, -0.6001, -2.0265], [0.7206, -0.3271, -1.6952], "
          "[0.0378, 0.3277, -0.1473], [-0.9443, -0.8589, 0.6169]]")
SEED_B = "[-0.0277, 0.5842, -0.5767]"


class Example(NamedTuple):
    experiment: Experiment
    title: tuple[str, str]                    # (English, Chinese)
    note: tuple[str, str] | None = None       # under the graph of the unedited example


EXAMPLES: dict[str, Example] = {
    "single_step": Example(
        Experiment(tensors={"w": "torch.tensor([10, 20], requires_grad=True, dtype=torch.float)"},
                   trainable=("w",), loss="loss = 2 * w ** 2", lr=0.01, epochs=1),
        ("Course 1 · one step: loss = 2w², w = [10, 20]", "课程示例 1 · 单步：loss = 2w²，w = [10, 20]")),
    "multi_epoch": Example(
        Experiment(tensors={"w": "torch.tensor(10, requires_grad=True, dtype=torch.float)"},
                   trainable=("w",), loss="loss = w ** 2 + 20", lr=0.01, epochs=500),
        ("Course 2 · 500 epochs: loss = w² + 20", "课程示例 2 · 训练 500 轮：loss = w² + 20")),
    "linear_layer": Example(
        Experiment(tensors={"x": "torch.ones(2, 5)", "y": "torch.zeros(2, 3)", "w": SEED_W, "b": SEED_B},
                   trainable=("w", "b"),
                   loss="z = x.matmul(w) + b\nloss = torch.nn.MSELoss()(z, y)", lr=0.01, epochs=1),
        ("Course 3 · a linear layer with MSELoss", "课程示例 3 · 线性层 + MSELoss")),
    "detach_target": Example(
        Experiment(tensors={"w": "torch.tensor([1., 2.])"}, trainable=("w",),
                   loss="target = (3 * w).detach()\nloss = ((w - target) ** 2).sum()", lr=0.01, epochs=20),
        ("detach · a target from w, detached", "detach · 由 w 算出的目标，已 detach"),
        ("`target = (3 * w).detach()` is a constant to autograd: the graph has no branch from `target` back to "
         "`w` (only the dashed *detached* box), so `w.grad` = 2(w − 3w) = −4w = [-4, -8]. Switch to the example "
         "without detach to see the branch come back.",
         "`target = (3 * w).detach()` 对 autograd 来说是常数：图里没有从 `target` 指回 `w` 的分支（只有虚线的"
         "「detached」方框），所以 `w.grad` = 2(w − 3w) = −4w = [-4, -8]。切换到不 detach 的示例，就能看到这条分支回来。")),
    "no_detach_target": Example(
        Experiment(tensors={"w": "torch.tensor([1., 2.])"}, trainable=("w",),
                   loss="target = 3 * w\nloss = ((w - target) ** 2).sum()", lr=0.01, epochs=20),
        ("detach · the same target, not detached", "detach · 同一个目标，不 detach"),
        ("Without `.detach()`, `target = 3 * w` is part of the graph: a second branch (MulBackward0) sends gradient "
         "back to `w`, so `w.grad` = 2(w − 3w)·(1 − 3) = 8w = [8, 16]. Compare with the detached example: −4w.",
         "不 detach 时，`target = 3 * w` 是图的一部分：第二条分支（MulBackward0）也把梯度传回 `w`，所以 "
         "`w.grad` = 2(w − 3w)·(1 − 3) = 8w = [8, 16]。和 detach 的示例对比：那里是 −4w。")),
    "logistic_regression": Example(
        Experiment(tensors={"x": "[[0.5, 1.0], [1.0, 2.5], [3.0, 0.5], [2.5, 3.0], [-1.0, -0.5], [-2.0, 1.0]]",
                            "y": "[[0.0], [1.0], [0.0], [1.0], [0.0], [0.0]]",
                            "w": "torch.zeros(2, 1)", "b": "torch.zeros(1)"},
                   trainable=("w", "b"),
                   loss="p = torch.sigmoid(x @ w + b)\nloss = F.binary_cross_entropy(p, y)", lr=0.5, epochs=200),
        ("Logistic regression", "逻辑回归")),
    "mlp": Example(
        Experiment(tensors={"x": "[[0, 0], [0, 1], [1, 0], [1, 1]]", "y": "[[0], [1], [1], [0]]",
                            "W1": "torch.randn(2, 4)", "b1": "torch.zeros(4)",
                            "W2": "torch.randn(4, 1)", "b2": "torch.zeros(1)"},
                   trainable=("W1", "b1", "W2", "b2"),
                   loss="h = torch.tanh(x @ W1 + b1)\nout = h @ W2 + b2\nloss = F.mse_loss(out, y)",
                   lr=0.05, epochs=300, optimizer="adam", seed=0),
        ("Small MLP learning XOR (Adam)", "小型多层感知机学习异或（Adam）")),
    "forgot_zero_grad": Example(
        Experiment(tensors={"w": "torch.tensor(10, requires_grad=True, dtype=torch.float)"},
                   trainable=("w",), loss="loss = w ** 2 + 20", lr=0.01, epochs=30, zero_grad=False),
        ("Pitfall · forgetting zero_grad", "陷阱 · 忘记清零梯度")),
    "lr_too_large": Example(
        Experiment(tensors={"w": "torch.tensor(10, requires_grad=True, dtype=torch.float)"},
                   trainable=("w",), loss="loss = w ** 2 + 20", lr=1.5, epochs=200),
        ("Pitfall · learning rate too large", "陷阱 · 学习率过大")),
}

PRESETS: dict[str, Experiment] = {name: ex.experiment for name, ex in EXAMPLES.items()}
