"""Every string the page shows, English and Chinese side by side so the two never drift apart."""
from __future__ import annotations

from explorer.optimizers import TABLE as OPTIMIZER_TABLE
from explorer.presets import EXAMPLES

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
                  "PyTorch's own spellings: `z.mul(w)`, `z[z > 0]`, `len(z)`, `F.dropout(z, 0.5)`, in-place "
                  "`loss += ...` or `z.clamp_(min=0)`. Ctrl+Enter applies.",
                  "一个表达式，或者先写 `z = x @ w + b` 再写 `loss = ...`；最后一行就是损失。可以用 PyTorch 自己的写法："
                  "`z.mul(w)`、`z[z > 0]`、`len(z)`、`F.dropout(z, 0.5)`，以及原地修改 `loss += ...` 或 "
                  "`z.clamp_(min=0)`。按 Ctrl+Enter 生效。"),
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
    "share_note": ("This link reopens exactly what you see: this experiment, epoch, step and tab, in this language.",
                   "这个链接会以当前语言打开你现在看到的页面：同样的实验、轮次、步骤和标签页。"),
    "copy": ("Copy", "复制"),
    "copied": ("Copied", "已复制"),
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
                          "tangent's slope is this epoch's gradient, the arrow is the step w → w − lr·grad and the "
                          "dotted line the steps before it. More weights: the run's path over two of them. A run that "
                          "blows up is drawn up to this epoch's step; its later points are off the chart.",
                          "损失随权重变化的样子，和训练一样用 float32 计算。一个权重时：虚线切线的斜率就是这一轮的梯度，"
                          "箭头就是这一步 w → w − lr·grad，点线是之前走过的各步。多个权重时：训练路径画在其中两个权重上。"
                          "发散的训练只画到这一轮的这一步，之后的点在图外。"),
    "landscape_coarse": ("A coarser grid than usual ({shape} points instead of {full}): each point is one forward pass "
                         "of this loss, and the landscape's share of a page is {limit} s of the server's time.",
                         "网格比平常粗（{shape} 个点，而不是 {full}）：每个点都要把这个损失前向计算一次，"
                         "而一个页面留给损失地形的时间是 {limit} 秒。"),
    "dirs": ("Slice through", "切面方向"),
    "dirs_moved": ("two weights that moved most", "移动最多的两个权重"),
    "dirs_random": ("two random filter-normalised directions", "两个按滤波器归一化的随机方向"),
    "dirs_help": ("Random directions as in Li et al. 2018, drawn from the random seed; each filter (a row of a "
                  "matrix, a whole bias) is rescaled to the norm of the weights at this epoch, and the plane is "
                  "centred on them.",
                  "随机方向的做法来自 Li 等人 2018 年的论文，由随机种子决定；每个滤波器（矩阵的一行、整个偏置）"
                  "缩放到这一轮权重的范数，切面以这一轮的权重为中心。"),
    "tab_race": ("Race", "优化器比赛"),
    "race_caption": ("The same experiment from the same start under each optimizer: one colour per optimizer, "
                     "dashed at the second learning rate. The strip under the curves takes, epoch by epoch, the "
                     "colour of whoever has the lowest loss then. gd and sgd take the same steps, so one line hides the other.",
                     "同一个实验、同样的起点，换用不同的优化器训练：每个优化器一种颜色，第二个学习率画成虚线。"
                     "曲线下方的色带在每一轮都取当时损失最低者的颜色。gd 和 sgd 每一步都相同，所以两条线重合。"),
    "race_who": ("Optimizers in the race", "参赛的优化器"),
    "race_lr": ("Also at learning rate", "再比一个学习率"),
    "race_lr_help": ("Each chosen optimizer runs again at this learning rate, drawn dashed. Empty: off.",
                     "每个选中的优化器再用这个学习率训练一次，画成虚线。留空表示不比。"),
    "race_left_out": ("Not in the race: {names}. Each would train for about {each} s of the server's time, and the "
                      "race's share of a page is {limit} s (estimated before anything runs, so every visitor of this "
                      "link sees the same race). Choose fewer optimizers, or fewer epochs.",
                      "未参赛：{names}。每个预计要占用服务器约 {each} 秒来训练，而一个页面留给比赛的时间是 {limit} 秒"
                      "（运行前估算，所以打开这个链接的每个人看到的比赛都一样）。请少选几个优化器，或减少轮次。"),
    "race_none": ("Choose at least one optimizer to race.", "请至少选择一个参赛的优化器。"),
    "race_leader": ("Epoch {k}: **{name}** leads (loss `{loss}`)", "第 {k} 轮：**{name}** 领先（损失 `{loss}`）"),
    "race_tied": ("Epoch {k}: **{name}** leads, tied with {n} more (loss `{loss}`)",
                  "第 {k} 轮：**{name}** 领先，另有 {n} 个并列（损失 `{loss}`）"),
    "race_all_diverged": ("Epoch {k}: every racer has diverged.", "第 {k} 轮：所有参赛者都已发散。"),
    "race_landscape_caption": ("Every racer's path on the loss landscape of this page's own run, other weights "
                               "as at this epoch; the ringed marker is where each racer is at this epoch.",
                               "每个参赛者的路径都画在本页这次训练的损失地形上，其余权重取这一轮的值；"
                               "带圈的点是每个参赛者在这一轮所在的位置。"),
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
    "map_alt": ("The whole backward graph as dots, the step shown in orange: where the big picture beside it sits.",
                "整个反向图的缩略图，橙色点是当前这一步：旁边的大图在整体中的位置。"),
    "graph_failed": ("This graph could not be drawn.", "无法绘制这个计算图。"),
    # predict first
    "predict": ("Predict first", "先猜再看"),
    "predict_help": ("Each backward step asks what it computes before it shows it: type your answer, then Check "
                     "(or Reveal).", "每一步反向传播先问你它会算出什么，再给出答案：输入你的答案后点「检查」（或「揭晓」）。"),
    "question": ("Your turn", "轮到你了"),
    "guess": ("Your answer", "你的答案"),
    "guess_placeholder": ("a number or a list, like [40, 80]", "一个数或一个列表，例如 [40, 80]"),
    "guess_help": ("A number, or a nested list like [[1, 2], [3, 4]]. Enter checks it.",
                   "一个数，或嵌套列表，如 [[1, 2], [3, 4]]。按 Enter 检查。"),
    "check": ("Check", "检查"),
    "reveal": ("Reveal", "揭晓"),
    "revealed": ("The answer: {answer}.", "答案：{answer}。"),
    "judge_failed": ("This answer could not be judged. Write it as a number or a list, like [40, 80], or press Reveal.",
                     "这个答案没法判断。请写成一个数或一个列表，比如 [40, 80]，或者点「揭晓」。"),
    "type_first": ("Type an answer first, or press Reveal.", "请先输入答案，或者点「揭晓」。"),
    "step_waits": ("Step {k} waits for your answer: the steps after it are not told yet.",
                   "第 {k} 步在等你的答案：之后的步骤还没有揭晓。"),
    "predict_hidden": ("Predicting: this tab shows epoch {epoch}'s numbers once its {n} open question(s) on the "
                       "Graph tab are answered.",
                       "先猜再看：回答完「计算图」里第 {epoch} 轮还没答的 {n} 个问题后，这里才显示这一轮的数。"),
    "gradcheck_after": ("The gradient check shows once this epoch's questions are answered.",
                        "回答完这一轮的问题后，才显示梯度检验。"),
    # lessons
    "lesson_part": ("Part {k} of {n}", "第 {k} / {n} 部分"),
    "lesson_prev": ("Previous part", "上一部分"),
    "lesson_next": ("Next part", "下一部分"),
    "lesson_close": ("Leave the lesson", "退出课程"),
    "lesson_edited": ("You changed this part's experiment: its questions are now your experiment's own.",
                      "你修改了这部分的实验：现在的问题来自你自己的实验。"),
    # gradient check
    "gradcheck": ("Gradient check", "梯度检验"),
    "gradcheck_intro": ("Autograd is not magic: beside its gradient, the central difference (L(w + ε) − L(w − ε)) / 2ε "
                        "in float64 with ε = {eps}, one element at a time, as `torch.autograd.gradcheck` does (epoch "
                        "{epoch}).",
                        "自动求导不是魔法：在它的梯度旁边，用 float64 逐个元素算中心差分 (L(w + ε) − L(w − ε)) / 2ε，"
                        "ε = {eps}，和 `torch.autograd.gradcheck` 的做法一样（第 {epoch} 轮）。"),
    "gradcheck_all": ("`{name}` {shape}: all {n} elements checked · largest difference **{err}**",
                      "`{name}` {shape}：检验了全部 {n} 个元素 · 最大差 **{err}**"),
    "gradcheck_spread": ("`{name}` {shape}: {k} of {n} elements checked, evenly spread (each costs two forward "
                         "passes) · largest difference **{err}**",
                         "`{name}` {shape}：均匀抽取 {n} 个元素中的 {k} 个来检验（每个要做两次前向计算）· 最大差 **{err}**"),
    "gradcheck_none": ("`{name}` {shape}: not checked, this loss is too big to run twice per element.",
                       "`{name}` {shape}：没有检验，这个损失太大，无法为每个元素各算两次。"),
    "gradcheck_unreached": ("`{name}` {shape}: the loss does not depend on it, so autograd gives None; the estimate "
                            "is 0.", "`{name}` {shape}：损失与它无关，所以 autograd 给出 None；数值估计为 0。"),
    "col_element": ("Element", "元素"),
    "col_autograd": ("autograd (float32)", "autograd（float32）"),
    "col_estimate": ("Estimate (float64)", "数值估计（float64）"),
    "col_diff": ("Difference", "差"),
    "kink": ("**Kink** at epoch {epoch}: {what} has {count} element(s) exactly on a corner of `{op}`. {why}",
             "**拐点**（第 {epoch} 轮）：{what} 有 {count} 个元素恰好落在 `{op}` 的拐点上。{why}"),
    "scalar": ("scalar", "标量"),
    "gradcheck_detached": ("This loss uses `.detach()`: nudging a weight also moves the value computed from it, so "
                           "the estimate sees that path while autograd treats the detached value as a constant. "
                           "Here the two differ on purpose, by exactly the gradient `.detach()` cut off.",
                           "这个损失用了 `.detach()`：微调权重时，由它算出的值也跟着变，所以数值估计看得到这条路径，"
                           "而 autograd 把 detach 之后的值当作常数。这里两者本来就不同，差的正好是 `.detach()` 切断的那部分梯度。"),
    "kink_value": ("an intermediate value", "一个中间值"),
    "gradcheck_failed": ("The gradient check could not be computed for this loss.", "无法为这个损失计算梯度检验。"),
    # curves
    "log_y": ("Log scale", "对数坐标"),
    "no_grads": ("No gradients recorded.", "没有记录到梯度。"),
    # log
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
    example = EXAMPLES.get(key)
    return pick(example.title, lang) if example else key


def preset_note(exp, lang: str) -> str | None:
    """The note of the example `exp` is, unedited; None for any other experiment."""
    note = next((ex.note for ex in EXAMPLES.values() if ex.note and ex.experiment == exp), None)
    return pick(note, lang) if note else None


def optimizer_title(key: str, lang: str) -> str:
    o = OPTIMIZER_TABLE.get(key)
    return pick(o.title if o else (key, key), lang)
