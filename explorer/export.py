"""An experiment as a plain PyTorch script in the course's style, so students can take it home.

The script performs exactly the engine's float32 operations in the same order, and prints one
line per epoch with full-precision numbers (`.tolist()`), so running it reproduces `run.history`
bit for bit, whatever the student named things:

- the student's names are the lesson and are kept; the script's own names (`lr`, `epochs`,
  `optimizer`, `epoch`, `w_now`, ...) give way, growing a `_` (`lr_`) when one is taken;
- the loss and the weights are read before the update, as the engine records them: an optimizer's
  step changes the weights in place, and a loss such as `w.reshape(-1)` shares their memory;
- a scalar loss is printed as it is (the engine's record), not its `.sum()`, which turns -0.0 into 0.0;
- a trainable the loss never reaches keeps `.grad` None: the script prints None, as the log
  does, and never updates it;
- torch runs on one thread, as the engine does: a sum over many numbers adds them in another
  order on several threads, and the last bits differ.
"""
from __future__ import annotations

import torch

from . import lang
from .errors import ExplorerError
from .experiment import Experiment, Plan, plan
from .optimizers import TABLE

def export_script(exp: Experiment) -> str:
    """Runnable plain-PyTorch source for `exp` (raises ExplorerError if `exp` is invalid)."""
    p = plan(exp)
    prog = p.program
    loss = prog.loss_name
    trainable = p.trainable
    reached = _reached(p)
    gd = exp.optimizer == "gd"

    taken = set(p.specs) | {name for name, _ in prog.lines} | {"torch", "F"}

    def own(base: str) -> str:
        """A name of the script's own that none of the student's names shadow."""
        while base in taken:
            base += "_"
        taken.add(base)
        return base

    lr, epochs, optimizer, epoch = own("lr"), own("epochs"), own("optimizer"), own("epoch")
    loss_now = own(f"{loss}_now")
    now = {n: own(f"{n}_now") for n in trainable if n in reached and not gd}

    uses_f = any("F." in lang.to_source(e) for _, e in prog.lines)
    out = ["# Autograd Explorer: this experiment as plain PyTorch (python this_file.py)",
           "import torch"]
    if uses_f:
        out.append("import torch.nn.functional as F")
    out += ["",
            "# 单线程计算, 和 Autograd Explorer 一样: 求和的顺序相同, 打印的数字逐位相同",
            "# (one thread, as in Autograd Explorer: sums add in the same order, the numbers match bit for bit)",
            "torch.set_num_threads(1)"]
    if p.uses_random:
        out.append(f"torch.manual_seed({exp.seed})")
    for name, spec in p.specs.items():
        out.append(f"{name} = {spec.source(requires_grad=name in trainable)}")
    out += [f"{lr} = {exp.lr!r}", f"{epochs} = {exp.epochs}"]
    if not gd:
        out.append(f"{optimizer} = " + TABLE[exp.optimizer].script.format(params=", ".join(trainable), lr=lr))
    out += ["", f"for {epoch} in range({epochs}):"]

    body = []
    if exp.zero_grad:
        body.append("# 梯度默认累加, 每轮反向传播前先清零 (gradients accumulate: zero them first)")
        if gd:
            for n in trainable:
                if n in reached:
                    body += [f"if {n}.grad is not None:", f"    {n}.grad.zero_()"]
        else:
            body.append(f"{optimizer}.zero_grad()")
    else:
        body.append("# 没有清零: 梯度会逐轮累加 (zero_grad is off: gradients accumulate)")
    body += [lang.line_source(name, e) for name, e in prog.lines]
    body.append(f"{loss}.sum().backward()")
    total = f"{loss}.sum()" if p.summed else loss      # as the engine records it: .sum() of -0.0 is 0.0
    for n in trainable:
        if n not in reached:
            body.append(f"# 损失没有用到 {n}: 它的梯度是 None, 不会被更新 "
                        f"(the loss never reaches {n}: its grad stays None and it is never updated)")

    fields = []
    for n in trainable:
        if n not in reached:
            fields.append(_field(n, f"{n}.data.tolist()", lr, f"{n}.grad", f"{n}.data.tolist()"))
        elif gd:
            fields.append(_field(n, f"{n}.data.tolist()", lr, f"{n}.grad.tolist()",
                                 f"({n}.data - {lr} * {n}.grad).tolist()"))
        else:
            fields.append(_field(n, now[n], lr, f"{n}.grad.tolist()", f"{n}.data.tolist()"))
    line = (f'print(f"当前轮次:{{{epoch} + 1}} 损失: {{{loss_now}}} | ' + " | ".join(fields) + '")')

    if gd:
        body += [f"{loss_now} = {total}.item()", line]
        body += [f"{n}.data = {n}.data - {lr} * {n}.grad" for n in trainable if n in reached]
    else:
        body.append("# 更新会原地改变权重 (和与权重共享内存的损失): 先记下它们 "
                    "(the step changes the weights in place, and any loss sharing their memory: read them first)")
        body.append(f"{loss_now} = {total}.item()")
        body += [f"{now[n]} = {n}.data.tolist()" for n in trainable if n in now]
        body += [f"{optimizer}.step()", line]
    checks = [f"torch.isfinite(torch.tensor({loss_now}))"] + [f"torch.isfinite({n}).all()" for n in trainable]
    body += ["# 损失或权重变成 inf/nan 就停止 (stop when the run diverges)",
             f"if not ({' and '.join(checks)}):",
             "    break"]
    out += ["    " + b for b in body]
    return "\n".join(out) + "\n"


def _field(name: str, now: str, lr: str, grad: str, nxt: str) -> str:
    return (f"{name} 当前权重: {{{now}}},固定学习率:{{{lr}}} "
            f"更新后梯度: {{{grad}}},下一个权重: {{{nxt}}}")


def _reached(p: Plan) -> set:
    """The trainables whose `.grad` backward sets: the loss's backward run once on the meta device
    (shapes only, nothing computed), so a weight the loss never reaches is known before training,
    as the engine finds it in epoch 1. The evaluation is the plan's dry run (`check=True`), which
    also makes the constants typed in the loss on the meta device: a real CPU target beside meta
    weights would fail, and the guess below would give `.grad` to a weight used only in a mask."""
    env = {n: s.make(device="meta").requires_grad_(n in p.trainable) for n, s in p.specs.items()}
    leaves = [env[n] for n in p.trainable]
    try:
        loss, _ = lang.Evaluator("loss", check=True).run(p.program, env)
        total = loss.sum() if p.summed else loss
        grads = torch.autograd.grad(total, leaves, allow_unused=True)
    except (ExplorerError, *lang.TORCH_ERRORS, NotImplementedError):
        used = p.program.refs()        # the run fails in epoch 1 anyway; the script fails there too
        return {n for n in p.trainable if n in used}
    return {n for n, g in zip(p.trainable, grads) if g is not None}
