"""Every string the page shows, English and Chinese side by side so the two never drift apart."""
from __future__ import annotations

LANG_NAMES = {"en": "English", "zh": "简体中文"}

TEXT: dict[str, tuple[str, str]] = {
    # page
    "title": ("Autograd Explorer", "Autograd Explorer · 自动求导可视化"),
    "tagline": ("Type tensors and a loss: real `torch.autograd` builds the backward graph, fills in every "
                "value and gradient, and trains.",
                "输入张量和损失：真实的 `torch.autograd` 构建反向图，算出每个值和梯度，并进行训练。"),
    "language": ("Language / 语言", "Language / 语言"),
    "projection": ("Projection mode", "投影模式"),
    "projection_help": ("Larger type and thicker lines, for a classroom wall.", "更大的字、更粗的线，适合投影到教室墙上。"),
    "training": ("Training…", "正在训练…"),
    # inputs
    "inputs": ("Experiment", "实验"),
    "preset": ("Example", "示例"),
    "preset_custom": ("Custom experiment", "自定义实验"),
    "preset_help": ("Choosing an example fills in every field below.", "选择一个示例会填好下面的所有输入。"),
    "reset": ("Reset example", "恢复示例"),
    "reset_help": ("Undo your edits: fill every field with the chosen example again.", "撤销修改：重新填入所选示例的所有值。"),
    "tensors": ("Tensors", "张量"),
    "tensor_name": ("Name", "名称"),
    "tensor_def": ("Definition of {name}", "{name} 的定义"),
    "tensor_def_help": ("A number, a nested list like [[1, 2], [3, 4]], or torch.tensor/ones/zeros/rand/randn/"
                        "full/eye/arange/linspace(...). Ctrl+Enter applies.",
                        "一个数、嵌套列表（如 [[1, 2], [3, 4]]），或 torch.tensor/ones/zeros/rand/randn/full/eye/"
                        "arange/linspace(...)。按 Ctrl+Enter 生效。"),
    "trainable": ("trainable", "可训练"),
    "trainable_help": ("requires_grad=True: autograd computes its gradient and every epoch updates it.",
                       "requires_grad=True：自动求导会计算它的梯度，每一轮都会更新它。"),
    "trainable_by_text": ("{name} is trainable anyway: its definition says requires_grad=True.",
                          "{name} 仍然是可训练的：它的定义里写了 requires_grad=True。"),
    "remove": ("Remove {name}", "删除 {name}"),
    "add_tensor": ("Add a tensor", "添加张量"),
    "loss": ("Loss", "损失"),
    "loss_help": ("One expression, or lines like `z = x @ w + b` then `loss = ...`; the last line is the loss. "
                  "Ctrl+Enter applies.",
                  "一个表达式，或者先写 `z = x @ w + b` 再写 `loss = ...`；最后一行就是损失。按 Ctrl+Enter 生效。"),
    "apply_hint": ("Ctrl+Enter applies a text box, Enter a number.", "文本框按 Ctrl+Enter 生效，数字框按 Enter 生效。"),
    "settings": ("Training", "训练设置"),
    "lr": ("Learning rate", "学习率"),
    "epochs": ("Epochs", "轮次"),
    "optimizer": ("Optimizer", "优化器"),
    "zero_grad": ("Zero gradients every epoch", "每轮清零梯度"),
    "zero_grad_help": ("w.grad.zero_() before each backward. Off: gradients add up, as torch does by default.",
                       "每次反向传播前执行 w.grad.zero_()。关闭时梯度会累加，这是 torch 的默认行为。"),
    "seed": ("Random seed", "随机种子"),
    "seed_help": ("torch.manual_seed for rand/randn tensors.", "torch.manual_seed，用于 rand/randn 张量。"),
    # share
    "share": ("Share this experiment", "分享这个实验"),
    "share_note": ("This link reopens exactly this experiment, in this language.", "这个链接会以当前语言打开完全相同的实验。"),
    "share_relative": ("Add this to the end of the app's address:", "把这段加在本应用地址的末尾："),
    "classroom": ("Classroom link: no inputs, large type, for projecting.", "课堂链接：隐藏输入、大字体，适合投影。"),
    # status
    "stale": ("Showing the last valid experiment. Fix the input marked in red: {field}",
              "正在显示上一个有效的实验。请修改标红的输入：{field}"),
    "internal": ("Something went wrong inside the explorer with this input. The last valid experiment is shown.",
                 "处理这个输入时，探索器内部出了问题。正在显示上一个有效的实验。"),
    "summary": ("Experiment", "实验"),
    "show_inputs": ("Show the inputs", "显示输入"),
    # epoch scrubber
    "epoch": ("Epoch shown", "显示的轮次"),
    "epoch_help": ("Which epoch's graph, values and gradients the page shows.", "页面显示哪一轮的计算图、数值和梯度。"),
    "one_epoch": ("1 epoch", "共 1 轮"),
    "epochs_done": ("{n} epochs", "共 {n} 轮"),
    # tabs
    "tab_graph": ("Graph", "计算图"),
    "tab_curves": ("Curves", "曲线"),
    "tab_log": ("Log", "训练日志"),
    "tab_code": ("Code", "代码"),
    "tab_landscape": ("Landscape", "损失地形"),
    "landscape_caption": ("The loss as a function of the weights, in float32 like the run. One weight: the dashed "
                          "tangent's slope is this epoch's gradient and the arrow is the step w → w − lr·grad. "
                          "More weights: the run's path over two of them.",
                          "损失随权重变化的样子，和训练一样用 float32 计算。一个权重时：虚线切线的斜率就是这一轮的梯度，"
                          "箭头就是这一步 w → w − lr·grad。多个权重时：训练路径画在其中两个权重上。"),
    # graph view
    "step": ("Backward step", "反向传播步骤"),
    "step_help": ("Step 0 is the loss; then the nodes in the order autograd really ran them.",
                  "第 0 步是损失；之后按 autograd 实际执行的顺序逐个节点。"),
    "prev": ("Back", "上一步"),
    "next": ("Next", "下一步"),
    "prev_help": ("One step back. Key: ←", "后退一步。快捷键：←"),
    "next_help": ("One step on. Key: →", "前进一步。快捷键：→"),
    "step_of": ("Step {k} of {n} · epoch {epoch}", "第 {k} / {n} 步 · 第 {epoch} 轮"),
    "legend": ("**Green** your trainable tensors · **blue** operations (grad_fn) · **yellow** the loss · "
               "**grey** data and saved tensors · edge labels: the gradient sent backward · "
               "**orange** border: the current step; greyed nodes have not received their gradient yet.",
               "**绿色** 可训练张量 · **蓝色** 运算（grad_fn）· **黄色** 损失 · **灰色** 数据和保存的张量 · "
               "边上的数字：反向传回的梯度 · **橙色** 边框：当前步骤；灰掉的节点还没收到梯度。"),
    "explain": ("What happens at this step", "这一步发生了什么"),
    "download_dot": ("Graph (.dot)", "计算图 (.dot)"),
    "download_svg": ("Graph (.svg)", "计算图 (.svg)"),
    "download_png": ("Graph (.png)", "计算图 (.png)"),
    "graph_alt": ("Backward graph of the loss, from the tensors on the left to the loss on the right.",
                  "损失的反向传播图：左边是张量，右边是损失。"),
    "graph_failed": ("This graph could not be drawn.", "无法绘制这个计算图。"),
    # curves
    "log_y": ("Log scale", "对数坐标"),
    "no_grads": ("No gradients recorded.", "没有记录到梯度。"),
    # log
    "col_epoch": ("Epoch", "当前轮次"),
    "col_tensor": ("Tensor", "张量"),
    "col_weight": ("Weight", "当前权重"),
    "col_lr": ("Learning rate", "固定学习率"),
    "col_grad": ("Gradient", "更新后梯度"),
    "col_next": ("Next weight", "下一个权重"),
    "col_loss": ("Loss", "损失"),
    "log_caption": ("One row per epoch{per}, printed at full float32 precision like the course's "
                    "`.tolist()`. ▶ marks the epoch shown above.",
                    "每轮一行{per}，和课程里的 `.tolist()` 一样以 float32 完整精度打印。▶ 标出上面显示的轮次。"),
    "log_per_tensor": (" and trainable tensor", "、每个可训练张量一行"),
    "log_window": ("Showing epochs {a}–{b} of {n}; the CSV has every epoch.",
                   "显示第 {a}–{b} 轮（共 {n} 轮）；CSV 包含全部轮次。"),
    "csv_capped": ("These tensors are large: the CSV holds the first {n} epochs.",
                   "这些张量很大：CSV 只包含前 {n} 轮。"),
    "download_csv": ("Download the log (.csv)", "下载训练日志 (.csv)"),
    # code
    "code_caption": ("This experiment as a plain PyTorch script: run it and it prints the log, number for number.",
                     "这个实验对应的纯 PyTorch 脚本：运行它会逐个数字地打印出同样的训练日志。"),
    "download_py": ("Download the script (.py)", "下载脚本 (.py)"),
}

PRESET_TITLES: dict[str, tuple[str, str]] = {
    "single_step": ("Course 1 · one step: loss = 2w², w = [10, 20]", "课程示例 1 · 单步：loss = 2w²，w = [10, 20]"),
    "multi_epoch": ("Course 2 · 500 epochs: loss = w² + 20", "课程示例 2 · 训练 500 轮：loss = w² + 20"),
    "linear_layer": ("Course 3 · a linear layer with MSELoss", "课程示例 3 · 线性层 + MSELoss"),
    "logistic_regression": ("Logistic regression", "逻辑回归"),
    "mlp": ("Small MLP learning XOR (Adam)", "小型多层感知机学习异或（Adam）"),
    "forgot_zero_grad": ("Pitfall · forgetting zero_grad", "陷阱 · 忘记清零梯度"),
    "lr_too_large": ("Pitfall · learning rate too large", "陷阱 · 学习率过大"),
}

OPTIMIZER_TITLES: dict[str, tuple[str, str]] = {
    "gd": ("Gradient descent: w.data -= lr * w.grad", "梯度下降：w.data -= lr * w.grad"),
    "sgd": ("torch.optim.SGD", "torch.optim.SGD"),
    "momentum": ("torch.optim.SGD, momentum 0.9", "torch.optim.SGD，动量 0.9"),
    "adam": ("torch.optim.Adam", "torch.optim.Adam"),
}


def t(key: str, lang: str = "en", **values) -> str:
    """The string `key` in `lang` (English for anything else), with `values` filled in."""
    en, zh = TEXT[key]
    s = zh if lang == "zh" else en
    return s.format(**values) if values else s


_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>#+!|~$"})


def plain(s: str) -> str:
    """`s` shown as typed inside Markdown: messages quote student text such as `w.__class__.__mro__`."""
    return s.translate(_MARKDOWN)


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "zh" else pair[0]


def preset_title(key: str, lang: str) -> str:
    return pick(PRESET_TITLES.get(key, (key, key)), lang)


def optimizer_title(key: str, lang: str) -> str:
    return pick(OPTIMIZER_TITLES.get(key, (key, key)), lang)
