"""An experiment as a plain PyTorch script in the course's style, so students can take it home.

The script performs exactly the engine's float32 operations in the same order, and prints one
line per epoch with full-precision numbers (`.tolist()`), so running it reproduces `run.history`.
"""
from __future__ import annotations

from . import lang
from .experiment import Experiment, plan

_OPTIMIZER_SRC = {
    "sgd": "torch.optim.SGD([{params}], lr=lr)",
    "momentum": "torch.optim.SGD([{params}], lr=lr, momentum=0.9)",
    "adam": "torch.optim.Adam([{params}], lr=lr)",
}


def export_script(exp: Experiment) -> str:
    """Runnable plain-PyTorch source for `exp` (raises ExplorerError if `exp` is invalid)."""
    p = plan(exp)
    prog = p.program
    loss = prog.loss_name
    used = prog.refs()
    params = [n for n in p.trainable if n in used]
    uses_f = any("F." in lang.to_source(e) for _, e in prog.lines)
    out = ["# Autograd Explorer: this experiment as plain PyTorch (python this_file.py)",
           "import torch"]
    if uses_f:
        out.append("import torch.nn.functional as F")
    out.append("")
    if p.uses_random:
        out.append(f"torch.manual_seed({exp.seed})")
    for name, spec in p.specs.items():
        out.append(f"{name} = {spec.source(requires_grad=name in p.trainable)}")
    out += [f"lr = {exp.lr!r}", f"epochs = {exp.epochs}"]
    gd = exp.optimizer == "gd"
    if not gd:
        out.append("optimizer = " + _OPTIMIZER_SRC[exp.optimizer].format(params=", ".join(p.trainable)))
    out += ["", "for epoch in range(epochs):"]
    body = []
    if exp.zero_grad:
        body.append("# 梯度默认累加, 每轮反向传播前先清零 (gradients accumulate: zero them first)")
        if gd:
            for n in p.trainable:
                body += [f"if {n}.grad is not None:", f"    {n}.grad.zero_()"]
        else:
            body.append("optimizer.zero_grad()")
    else:
        body.append("# 没有清零: 梯度会逐轮累加 (zero_grad is off: gradients accumulate)")
    body += [f"{name} = {lang.to_source(e)}" for name, e in prog.lines]
    body.append(f"{loss}.sum().backward()")
    fields = []
    for n in params:
        if gd:
            nxt = f"({n}.data - lr * {n}.grad).tolist()"
        else:
            body.append(f"{n}_now = {n}.data.tolist()")
            nxt = f"{n}.data.tolist()"
        now = f"{n}.data.tolist()" if gd else f"{n}_now"
        fields.append(f"{n} 当前权重: {{{now}}},固定学习率:{{lr}} 更新后梯度: {{{n}.grad.tolist()}},下一个权重: {{{nxt}}}")
    line = f'print(f"当前轮次:{{epoch + 1}} 损失: {{{loss}.sum().item()}} | ' + " | ".join(fields) + '")'
    if gd:
        body.append(line)
        body += [f"{n}.data = {n}.data - lr * {n}.grad" for n in params]
    else:
        body += ["optimizer.step()", line]
    body += ["# 损失或权重变成 inf/nan 就停止 (stop when the run diverges)",
             f"if not torch.isfinite({loss}.sum()) or not all(torch.isfinite(t).all() for t in "
             f"[{', '.join(p.trainable)}]):",
             "    break"]
    out += ["    " + b for b in body]
    return "\n".join(out) + "\n"
