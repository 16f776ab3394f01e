"""Lessons: the course's chapter as a guided path, one table, so adding a part touches one place.

Each part is a short text (English and Chinese), its experiment, the epoch it looks at, and which of
that epoch's questions it asks before telling (predict mode is on in a lesson). The answers are never
typed in here: they are computed from the part's own run (`explorer.predict.questions`).
"""
from __future__ import annotations

from dataclasses import dataclass

from .experiment import Experiment
from .presets import PRESETS


@dataclass(frozen=True)
class Part:
    key: str
    title: tuple                 # (en, zh)
    text: tuple                  # (en, zh), Markdown
    experiment: Experiment
    epoch: int = 1               # the epoch the part looks at
    ask: tuple = ()              # the names whose questions it asks (the input a gradient goes to, the
                                 # weight updated); empty: every question of the epoch

    def asks(self, question) -> bool:
        return not self.ask or question.to in self.ask


COURSE = (
    Part("leaf", ("A leaf and requires_grad", "叶子张量与 requires_grad"),
         ("`w = torch.tensor([10, 20], requires_grad=True, dtype=torch.float)` is a **leaf**: a tensor you made, "
          "whose gradient autograd keeps in `w.grad`. `loss = 2 * w ** 2`, summed, is the loss. Backward walks "
          "the graph from the loss to `w`, one `grad_fn` at a time: before each step, say what it sends on.",
          "`w = torch.tensor([10, 20], requires_grad=True, dtype=torch.float)` 是一个**叶子张量**：由你创建，"
          "autograd 把它的梯度保存在 `w.grad` 里。`loss = 2 * w ** 2` 求和后就是损失。反向传播从损失走到 `w`，"
          "每次经过一个 `grad_fn`：每一步之前，先说出它会往下传什么。"),
         PRESETS["single_step"], ask=()),
    Part("update", ("One update step", "一次更新"),
         ("The gradient says which way the loss grows; gradient descent steps the other way: "
          "`w.data = w.data - lr * w.grad`, with `lr = 0.01`. What is `w` after the step?",
          "梯度指向损失增大的方向；梯度下降朝相反方向走一步：`w.data = w.data - lr * w.grad`，其中 `lr = 0.01`。"
          "这一步之后 `w` 是多少？"),
         PRESETS["single_step"], ask=("w",)),
    Part("epochs", ("500 epochs: where w goes", "500 轮：w 去了哪里"),
         ("`loss = w ** 2 + 20` has its lowest point at `w = 0`. Each epoch zeroes `w.grad`, runs backward and "
          "steps: `w` shrinks by the same factor every time. Predict `w` after the 500th step.",
          "`loss = w ** 2 + 20` 的最低点在 `w = 0`。每一轮先清零 `w.grad`，再反向传播、更新：`w` 每次都按同一个比例缩小。"
          "预测第 500 步之后的 `w`。"),
         PRESETS["multi_epoch"], epoch=500, ask=("w",)),
    Part("zero_grad", ("Forgetting zero_grad", "忘了清零梯度"),
         ("Gradients **accumulate**: without `w.grad.zero_()` each backward adds to what `w.grad` already holds, "
          "and the step uses the sum. Epoch 2 of the same loss, without zeroing: what is `w` after the step?",
          "梯度是**累加**的：不执行 `w.grad.zero_()`，每次反向传播都会加到 `w.grad` 原有的值上，更新用的是累加和。"
          "同一个损失、不清零的第 2 轮：这一步之后 `w` 是多少？"),
         PRESETS["forgot_zero_grad"], epoch=2, ask=("w",)),
    Part("detach", ("`.detach()`: a cut in the graph", "`.detach()`：把图剪断"),
         ("`target = (3 * w).detach()` is a constant to autograd: no gradient flows back through it. "
          "What does backward send to `w` now?",
          "`target = (3 * w).detach()` 对 autograd 来说是常数：梯度不会沿它传回去。现在反向传播传给 `w` 的是什么？"),
         PRESETS["detach_target"], ask=("w",)),
    Part("linear", ("A linear layer's w.grad and b.grad", "线性层的 w.grad 和 b.grad"),
         ("`z = x.matmul(w) + b`, then `torch.nn.MSELoss()(z, y)`: the course's own layer. `b` is added to "
          "every row, so its gradient sums over the rows; `w`'s comes through `xᵀ`.",
          "`z = x.matmul(w) + b`，再算 `torch.nn.MSELoss()(z, y)`：课程里的线性层。`b` 加到了每一行上，所以它的梯度"
          "要对各行求和；`w` 的梯度经过 `xᵀ` 传来。"),
         PRESETS["linear_layer"], ask=("w", "b", "z")),
    Part("lr", ("A learning rate too large", "学习率太大"),
         ("With `lr = 1.5` each step jumps past the minimum and lands farther away than it started: "
          "10 → −20 → 40 … Predict `w` after epoch 3's step.",
          "`lr = 1.5` 时，每一步都越过最低点，落得比出发点还远：10 → −20 → 40 …… 预测第 3 轮更新之后的 `w`。"),
         PRESETS["lr_too_large"], epoch=3, ask=("w",)),
    Part("inplace", ("An in-place pitfall", "原地修改的陷阱"),
         ("`y += 1` changes `y` **in place**: autograd records it as a new node (`AddBackward0`) on top of `y`'s "
          "history and bumps `y`'s version counter. Here that is fine: `2 * w` saved nothing of `y`. Had line 1 been "
          "`y = torch.sigmoid(w)`, `SigmoidBackward0` would have saved `y` for backward, and PyTorch (and this "
          "page: try it) would refuse `y += 1`. Say what each step sends back.",
          "`y += 1` **原地**修改 `y`：autograd 把它记成 `y` 历史之上的一个新节点（`AddBackward0`），并把 `y` 的版本号加一。"
          "这里没问题：`2 * w` 没有保存 `y`。如果第 1 行是 `y = torch.sigmoid(w)`，`SigmoidBackward0` 会为反向传播保存 `y`，"
          "PyTorch（还有这个页面，试试看）就会拒绝 `y += 1`。说出每一步往回传什么。"),
         Experiment(tensors={"w": "torch.tensor([1., 2.])"}, trainable=("w",),
                    loss="y = 2 * w\ny += 1\nloss = (y * y).sum()", lr=0.1, epochs=1)),
)

LESSONS = {"course": COURSE}


def preset_of(p: Part) -> str | None:
    """The example a part's experiment is (its fields then show the example's name), or None."""
    return next((k for k, e in PRESETS.items() if e == p.experiment), None)


def part(lesson: str, k: int) -> Part | None:
    """Part k (1-based) of a lesson, kept inside it; None for a lesson that does not exist."""
    parts = LESSONS.get(lesson)
    if not parts:
        return None
    return parts[min(len(parts), max(1, k)) - 1]


def questions(p: Part, run, graph) -> dict:
    """{step: Question} that part `p` asks at its epoch, from its own run's graph."""
    from .predict import questions as all_questions
    return {k: q for k, q in all_questions(graph, run, p.epoch).items() if p.asks(q)}
