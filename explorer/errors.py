"""The one error type the app ever shows: every message exists in English and Chinese.

Messages live in a single table so the two languages never drift apart and every
limit is named in the text the student reads.
"""
from __future__ import annotations

import re

MESSAGES: dict[str, tuple[str, str]] = {
    # the language
    "too_long": ("'{field}' is too long: {length} characters, the limit is {limit}.",
                 "「{field}」太长：{length} 个字符，上限是 {limit}。"),
    "too_deep": ("'{field}' is nested too deeply: the limit is {limit} levels.",
                 "「{field}」嵌套太深：上限是 {limit} 层。"),
    "too_many_lines": ("'{field}' has too many lines: the limit is {limit}.",
                       "「{field}」行数太多：上限是 {limit} 行。"),
    "empty": ("'{field}' is empty: type an expression.", "「{field}」是空的：请输入一个表达式。"),
    "syntax": ("'{field}' is not valid: {detail}.", "「{field}」写法有误：{detail}。"),
    "non_ascii": ("'{field}' contains the character '{char}' (position {pos}). Use plain ASCII "
                  "(half-width) characters: full-width brackets, commas and look-alike letters are not allowed.",
                  "「{field}」包含字符「{char}」（第 {pos} 个字符）。请使用半角英文字符：全角括号、逗号和形近字母都不允许。"),
    "not_allowed": ("'{field}': {what} is not allowed here. {allowed}",
                    "「{field}」：这里不允许使用 {what}。{allowed}"),
    "part_assign": ("'{field}': assigning to part of a tensor (y[0] = ...) is not supported here: it would "
                    "write a value autograd cannot trace back to your tensors. Change the part in place with "
                    "y[0] += v (or -=, *=, /=), or build the whole tensor, e.g. torch.where(mask, v, y) or "
                    "torch.cat([a, b]).",
                    "「{field}」：这里不支持给张量的一部分赋值（y[0] = ...）：写进去的值 autograd 无法追溯到你的张量。"
                    "可以用 y[0] += v（或 -=、*=、/=）原地修改那一部分，或者构造整个张量，例如 torch.where(mask, v, y) "
                    "或 torch.cat([a, b])。"),
    "part_op": ("'{field}': {op}= on part of a tensor is not supported: only +=, -=, *= and /= (PyTorch's add_, "
                "sub_, mul_ and div_ on that part).",
                "「{field}」：不支持对张量的一部分做 {op}=：只能用 +=、-=、*= 和 /=（也就是对那一部分调用 PyTorch 的 "
                "add_、sub_、mul_ 和 div_）。"),
    "unknown_name": ("'{field}': the name '{name}' is not defined. Defined names: {known}.",
                     "「{field}」：名字「{name}」没有定义。已定义的名字：{known}。"),
    "unknown_function": ("'{field}': '{name}' is not an allowed function. Allowed: {allowed}.",
                         "「{field}」：「{name}」不是允许的函数。允许的有：{allowed}。"),
    "unknown_method": ("'{field}': '.{name}()' is not an allowed tensor method. Allowed: {allowed}.",
                       "「{field}」：「.{name}()」不是允许的张量方法。允许的有：{allowed}。"),
    "bad_keyword": ("'{field}': keyword '{name}' is not allowed for {func}. Allowed: {allowed}.",
                    "「{field}」：{func} 不接受关键字参数「{name}」。允许的有：{allowed}。"),
    "bad_argument": ("'{field}': {func} {detail}.", "「{field}」：{func} 的参数有误：{detail}。"),
    "history_too_large": ("This run would record {count} numbers (epochs × trainable elements × 2), the limit is "
                          "{limit}: use fewer epochs or smaller trainable tensors.",
                          "本次运行要记录 {count} 个数（轮次 × 可训练元素数 × 2），上限是 {limit}：请减少轮次或缩小可训练张量。"),
    "bad_name": ("'{name}' cannot be used as a name: use letters, digits and _ (not starting with a digit "
                 "or _), at most {limit} characters, and not a function name, a Python keyword or a built-in "
                 "such as print or range (the exported script must run).",
                 "「{name}」不能用作名字：只能用字母、数字和下划线（不能以数字或下划线开头），最多 {limit} 个字符，"
                 "且不能是函数名、Python 关键字或 print、range 这样的内置名字（导出的脚本要能运行）。"),
    "reserved_name": ("'{field}': '{name}' is already a tensor of the experiment; pick another name.",
                      "「{field}」：「{name}」已经是实验里的张量，请换一个名字。"),
    "literal_too_large": ("'{field}': the number {value} is too large: the limit is ±{limit}.",
                          "「{field}」：数字 {value} 太大：上限是 ±{limit}。"),
    "exponent_too_large": ("'{field}': the exponent {value} is too large: the limit is ±{limit}.",
                           "「{field}」：指数 {value} 太大：上限是 ±{limit}。"),
    "too_many_elements": ("'{field}': {what} would have {count} elements, the limit is {limit}.",
                          "「{field}」：{what} 将有 {count} 个元素，上限是 {limit}。"),
    "too_many_dims": ("'{field}': {what} would have {count} dimensions, the limit is {limit}.",
                      "「{field}」：{what} 将有 {count} 个维度，上限是 {limit}。"),
    "too_many_ops": ("'{field}' has too many operations: the limit is {limit}.",
                     "「{field}」运算太多：上限是 {limit} 个。"),
    "backward_by_app": ("'{field}': no need for .backward() here: the app runs the backward pass itself (the "
                        "course's loss.sum().backward()) and shows every gradient, w.grad included, on the graph. "
                        "Keep only the lines that compute the loss.",
                        "「{field}」：这里不需要写 .backward()：应用会自己执行反向传播（即课程里的 loss.sum().backward()），"
                        "并在计算图上显示每个梯度，包括 w.grad。只保留计算损失的那几行即可。"),
    "grad_on_graph": ("'{field}': .grad cannot be used inside the loss: gradients exist only after backward, which "
                      "the app runs once the loss is computed. Every tensor's .grad is shown on the graph and in the "
                      "log (.grad is an attribute, not a method).",
                      "「{field}」：损失里不能使用 .grad：梯度要在反向传播之后才有，而应用在算出损失之后才执行反向传播。"
                      "每个张量的 .grad 都显示在计算图和训练日志里（.grad 是属性，不是方法）。"),
    "zero_grad_by_app": ("'{field}': zeroing gradients is the 'Zero gradients every epoch' switch under Training; "
                         "the loss field only computes the loss.",
                         "「{field}」：梯度清零由「训练」下的「每轮清零梯度」开关控制；损失一栏只需要计算损失。"),
    "zero_tensor": ("'{field}': .zero_() on a value is not in the language: for zeros of h's shape write h * 0. "
                    "Zeroing gradients (w.grad.zero_()) is the 'Zero gradients every epoch' switch under Training.",
                    "「{field}」：不支持对一个值调用 .zero_()：需要 h 形状的全零张量时请写 h * 0。"
                    "梯度清零（w.grad.zero_()）由「训练」下的「每轮清零梯度」开关控制。"),
    "step_by_app": ("'{field}': the update step is the app's: choose it under Training (optimizer and learning "
                    "rate); the loss field only computes the loss.",
                    "「{field}」：参数更新由应用完成：请在「训练」里选择优化器和学习率；损失一栏只需要计算损失。"),
    # tensors
    "int_requires_grad": ("'{field}': {text} would fail in PyTorch too: whole numbers make an integer tensor, and "
                          "\"Only Tensors of floating point and complex dtype can require gradients\". The course's "
                          "fix: add dtype=torch.float (or write 10.0 instead of 10).",
                          "「{field}」：{text} 在 PyTorch 里同样会报错：整数会生成整数张量，而「只有浮点或复数类型的张量才能"
                          "要求梯度」。课程里的写法：加上 dtype=torch.float（或把 10 写成 10.0）。"),
    "ragged": ("'{field}': the rows of this list have different lengths; every row must have the same length.",
               "「{field}」：列表各行长度不同；每一行的长度必须相同。"),
    "int_dtype": ("'{field}': a tensor that needs a gradient must be float (the course: dtype=torch.float). "
                  "Integer tensors ({dtype}) have no gradients. Remove the dtype or use dtype=torch.float.",
                  "「{field}」：需要梯度的张量必须是 float 类型（课程里的 dtype=torch.float）。整数张量（{dtype}）没有梯度。"
                  "请删掉 dtype 或改成 dtype=torch.float。"),
    "bad_dtype": ("'{field}': dtype {dtype} is not supported; tensors here are float32 (torch.float).",
                  "「{field}」：不支持 dtype={dtype}；这里的张量都是 float32（torch.float）。"),
    "name_mismatch": ("'{field}': this row is named '{name}' but the text assigns '{other}'.",
                      "「{field}」：这一行的名字是「{name}」，但文本赋值给了「{other}」。"),
    "not_a_tensor": ("'{field}' must be a tensor, not {what}.", "「{field}」必须是张量，而不是 {what}。"),
    # experiment
    "no_tensors": ("Define at least one tensor.", "请至少定义一个张量。"),
    "too_many_tensors": ("Too many tensors: the limit is {limit}.", "张量太多：上限是 {limit} 个。"),
    "duplicate_name": ("The name '{name}' is used twice.", "名字「{name}」被用了两次。"),
    "unknown_trainable": ("'{name}' is marked trainable but no tensor has that name.",
                          "「{name}」被标记为可训练，但没有叫这个名字的张量。"),
    "no_trainable": ("No tensor is trainable: switch 'trainable' on for at least one (requires_grad=True).",
                     "没有可训练的张量：请至少为一个张量打开「可训练」（requires_grad=True）。"),
    "loss_ignores_trainable": ("The loss does not depend on any trainable tensor ({names}), so there is nothing to "
                               "differentiate. Use one of them in the loss.",
                               "损失不依赖任何可训练张量（{names}），没有可求导的对象。请在损失中使用它们。"),
    "loss_not_tensor": ("The loss must be a tensor computed from your tensors, not a plain number.",
                        "损失必须是由张量计算出的张量，而不是一个普通数字。"),
    "shape_mismatch": ("'{field}': {op} cannot combine shapes {left} and {right}.",
                       "「{field}」：{op} 无法组合形状 {left} 和 {right}。"),
    "loss_shape_mismatch": ("'{field}': {op} got input shape {left} and target shape {right}; they must match "
                            "(otherwise torch silently broadcasts and the loss is wrong).",
                            "「{field}」：{op} 的输入形状 {left} 与目标形状 {right} 不一致；两者必须相同（否则 torch 会悄悄广播，损失就错了）。"),
    "op_failed": ("'{field}': {op} failed: {detail}", "「{field}」：{op} 出错：{detail}"),
    "epochs_range": ("Epochs must be a whole number from 1 to {limit}.", "轮次必须是 1 到 {limit} 之间的整数。"),
    "lr_range": ("The learning rate must be between {low} and {high}.", "学习率必须在 {low} 和 {high} 之间。"),
    "seed_range": ("The random seed must be a whole number from 0 to {limit}.", "随机种子必须是 0 到 {limit} 之间的整数。"),
    "bad_optimizer": ("Unknown optimizer '{name}'. Choose one of: {allowed}.", "未知的优化器「{name}」。可选：{allowed}。"),
    "too_much_work": ("Training would take about {time} of the server's time ({per_epoch} per epoch × {epochs} "
                      "epochs, estimated before it runs); the limit for training is {limit}: at most {fit} epochs of "
                      "this loss fit. Use fewer epochs or smaller tensors.",
                      "训练预计要占用服务器约 {time}（每轮 {per_epoch} × {epochs} 轮，运行前估算）；训练的上限是 {limit}："
                      "这个损失最多能训练 {fit} 轮。请减少轮次或缩小张量。"),
    "epoch_too_heavy": ("'{field}': one epoch of this loss is too heavy to draw: tracing its graph and explaining its "
                        "steps would take about {time} of the server's time (estimated before it runs); the limit for "
                        "one epoch's graph is {limit}. Use smaller tensors or fewer operations.",
                        "「{field}」：这个损失的一轮太重，无法绘制：追踪它的计算图并解释每一步预计要占用服务器约 {time}"
                        "（运行前估算）；一轮计算图的上限是 {limit}。请使用更小的张量或更少的运算。"),
    "too_much_memory": ("'{field}': one epoch would hold about {mb} MB ({what}), the limit is {limit} MB. "
                        "Use smaller tensors.",
                        "「{field}」：一轮训练约需 {mb} MB 内存（{what}），上限是 {limit} MB。请使用更小的张量。"),
    "too_slow": ("The server could not finish {what} within {limit} seconds: it is very busy right now, or this is "
                 "much heavier than its estimate. It was stopped and nothing was kept: try again in a moment.",
                 "服务器没能在 {limit} 秒内完成{what}：它现在非常繁忙，或者这次计算比估算的重得多。计算已停止，结果没有保存："
                 "请稍后再试。"),
    "landscape_too_heavy": ("The landscape of this loss is not drawn: even its coarsest grid ({points} points, one "
                            "forward pass each) would take about {time} of the server's time, and the landscape's "
                            "share of a page is {limit}. The other tabs show this run as usual.",
                            "这个损失的损失地形没有绘制：即使最粗的网格（{points} 个点，每个点前向计算一次）也要占用服务器约 "
                            "{time}，而一个页面留给损失地形的时间是 {limit}。其他标签页照常显示这次运行。"),
    "worker_lost": ("The server lost the process computing {what} (it may have run out of memory). Nothing was "
                    "kept: try again, or use smaller tensors.",
                    "服务器上负责计算{what}的进程意外退出（可能内存不足）。结果没有保存：请重试，或使用更小的张量。"),
    "too_much_memory_live": ("The server stopped {what}: it needed more than {limit} MB of memory. Use smaller tensors.",
                             "服务器停止了{what}：它需要超过 {limit} MB 的内存。请使用更小的张量。"),
    "bad_epoch": ("Epoch {epoch} does not exist: this run has epochs 1 to {last}.",
                  "第 {epoch} 轮不存在:本次运行只有第 1 到 {last} 轮。"),
    # ops
    "values_need_dim": ("'{field}': .{name} exists only after max or min along a dimension, like "
                        "torch.max(z, dim=1).{name}.",
                        "「{field}」:.{name} 只能跟在沿某个维度的 max 或 min 之后,例如 torch.max(z, dim=1).{name}。"),
    "leaves_graph": ("'{field}': .{name}() turns a tensor into plain Python numbers, which autograd cannot follow: "
                     "the gradient path ends there, so the loss would not depend on the weights through it (and "
                     "could not be differentiated). Keep tensors all the way to the loss: z.sum() rather than "
                     "z.sum().{name}(); a value that should carry no gradient is z.detach().",
                     "「{field}」：.{name}() 把张量变成普通的 Python 数，autograd 无法跟踪它：梯度路径到这里就断了，"
                     "损失不会再通过它依赖于权重（也就无法求导）。请一直用张量算到损失：写 z.sum() 而不是 z.sum().{name}()；"
                     "不需要梯度的值请用 z.detach()。"),
    "refused_keyword": ("'{field}': PyTorch documents {name}= for {func}, but it is not used here: {why}.",
                        "「{field}」：PyTorch 的 {func} 有 {name}= 这个参数，但这里不使用它：{why}。"),
    "loss_dtype": ("'{field}': dtype {dtype} is not used in the loss: values here are float32 (torch.float32, "
                   "torch.float), and class targets or masks torch.long, torch.int or torch.bool.",
                   "「{field}」：损失里不使用数据类型 {dtype}：这里的数值都是 float32（torch.float32、torch.float），"
                   "类别标签或掩码用 torch.long、torch.int 或 torch.bool。"),
    # in place
    "inplace_leaf": ("'{field}': line {line} (`{src}`) changes {name} in place, and PyTorch refuses it: \"a leaf "
                     "Variable that requires grad is being used in an in-place operation\". {name} is a leaf that "
                     "requires grad: backward accumulates d loss / d {name} into {name}.grad, and for that the graph "
                     "needs {name} itself, unchanged, as every operation that used it saw it. Compute a new value "
                     "instead: `{fix}`.",
                     "「{field}」：第 {line} 行（`{src}`）原地修改了 {name}，PyTorch 会拒绝："
                     "“a leaf Variable that requires grad is being used in an in-place operation”。{name} 是需要梯度的"
                     "叶子张量：反向传播把 d 损失 / d {name} 累加到 {name}.grad，为此计算图需要 {name} 本身保持原样，"
                     "和用到它的每个运算看到的一样。请改为计算一个新值：`{fix}`。"),
    "inplace_input": ("'{field}': line {line} (`{src}`) changes {name} in place: {name} is one of the experiment's "
                      "tensors (directly, or through a view or .detach() of it, which share its numbers). It would stay "
                      "changed in every later epoch, so each epoch would start from different numbers than the "
                      "graph of one epoch shows. Compute a new value instead: `{fix}`.",
                      "「{field}」：第 {line} 行（`{src}`）原地修改了 {name}：{name} 是实验里的张量（直接修改，或者通过"
                      "它的视图或 .detach() 修改，它们共用同一份数值）。修改会一直保留到之后的每一轮，于是每一轮开始时的"
                      "数值都和一轮计算图里显示的不同。请改为计算一个新值：`{fix}`。"),
    "inplace_saved": ("'{field}': line {line} (`{src}`) changes {name} in place, but autograd saved that tensor for "
                      "the backward pass of line {saver_line} (`{saver}`): {fn} keeps {what} to compute its local "
                      "derivative. PyTorch refuses this when backward reaches {fn}: \"one of the variables needed for "
                      "gradient computation has been modified by an inplace operation\". Every tensor has a version "
                      "counter that each in-place change increases: it was saved at version {saved} and is now at "
                      "version {now}, so the saved numbers are gone. Compute a new value instead (`{fix}`), or change "
                      "it before line {saver_line} uses it.",
                      "「{field}」：第 {line} 行（`{src}`）原地修改了 {name}，但 autograd 为第 {saver_line} 行"
                      "（`{saver}`）的反向传播保存了这个张量：{fn} 保存了{what}，用来计算局部导数。反向传播到达 {fn} 时 "
                      "PyTorch 会拒绝：“one of the variables needed for gradient computation has been modified by an "
                      "inplace operation”。每个张量都有一个版本计数器，每次原地修改都会让它加一：保存时是第 {saved} 版，"
                      "现在是第 {now} 版，保存的数值已经不在了。请改为计算一个新值（`{fix}`），或者在第 {saver_line} 行"
                      "用到它之前修改。"),
    "max_dim_pair": ("'{field}': {name} along a dimension returns two tensors, (values, indices): add .values "
                     "(the {name} of each slice, which carries the gradient) or .indices (their positions).",
                     "「{field}」:沿某个维度的 {name} 返回两个张量 (values, indices):请加上 .values"
                     "(每一段的{name}值,梯度经由它传递)或 .indices(它们的位置)。"),
}


class ExplorerError(ValueError):
    """A bad input, explained to a student: `.code` is stable, `.field` names the input at fault."""

    def __init__(self, code: str, field: str | None = None, **details):
        self.code, self.field, self.details = code, field, details
        en, zh = MESSAGES[code]
        self.en = en.format(field=field or "", **{k: _show(v, "en") for k, v in details.items()})
        self.zh = fullwidth(zh.format(field=field_label(field, "zh"),
                                      **{k: _show(v, "zh", (code, k)) for k, v in details.items()}))
        super().__init__(self.en)

    def message(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en


class Bi(tuple):
    """A detail worded in both languages: Bi(("English", "中文"))."""
    __slots__ = ()


# The inputs as the page labels them (TEXT in explorer/ui/text.py, which errors.py cannot import: the UI
# needs streamlit). A Chinese message names 「损失」, not 「loss」; ExplorerError.field stays the key.
FIELD_ZH = {"loss": "损失", "tensors": "张量", "trainable": "可训练", "lr": "学习率", "epochs": "轮次",
            "optimizer": "优化器", "seed": "随机种子", "epoch": "显示的轮次", "experiment": "实验", "name": "名称"}


def field_label(field: str | None, lang: str = "en") -> str:
    """`field` as a message names it: "tensor w" reads 张量 w in Chinese."""
    if not field or lang != "zh":
        return field or ""
    if field.startswith("tensor "):
        return f"{FIELD_ZH['tensors']} {field[len('tensor '):]}"
    return FIELD_ZH.get(field, field)


# Python's own operator classes, named by the parser in "the operator X": Chinese shows the symbol.
_OPERATORS = {"BitAnd": "&", "BitOr": "|", "BitXor": "^", "LShift": "<<", "RShift": ">>", "FloorDiv": "//",
              "Mod": "%", "MatMult": "@", "Invert": "~", "Not": "not", "Add": "+", "Sub": "-", "Mult": "*",
              "Div": "/", "Pow": "**", "UAdd": "+", "USub": "-"}
# What `ast.parse` calls the thing a student tried to assign to.
_THINGS = {"literal": "字面量", "expression": "表达式", "function call": "函数调用", "ellipsis": "省略号",
           "await expression": "await 表达式", "attribute": "属性", "subscript": "索引", "comparison": "比较运算", "conditional expression": "条件表达式",
           "lambda": "lambda 表达式", "keyword": "关键字", "f-string expression": "f-string", "named expression": ":=",
           "tuple": "元组", "list": "列表", "set display": "集合", "dict literal": "字典", "starred": "星号表达式",
           "yield expression": "yield 表达式", "generator expression": "生成器表达式", "list comprehension": "推导式",
           "set comprehension": "推导式", "dict comprehension": "推导式", "dict display": "字典"}


def _thing(x: str) -> str:
    """What Python names, in Chinese words; code keeps a space to the Chinese around it."""
    t = _THINGS.get(x, x)
    return (" " if t[0].isascii() else "") + t + (" " if t[-1].isascii() else "")


def _table(rows):
    return [(re.compile(p), r) for p, r in rows]


# The parser words its details in English; these patterns give the Chinese message the same detail.
_ZH = _table((
    (r"^the name (.+)$", r"名字 \1"), (r"^the attribute (.+)$", r"属性 \1"), (r"^the value (.+)$", r"值 \1"),
    (r"^the module (.+) on its own$", r"单独的模块 \1"),
    (r"^the operator (\w+)$", lambda m: f"运算符 {_OPERATORS.get(m[1], m[1])}"), (r"^the operator (.+)$", r"运算符 \1"),
    (r"^(.+) without calling it$", r"\1（没有调用）"), (r"^calling (.+) \(it is a tensor\)$", r"调用 \1（它是张量）"),
    (r"^using the loss function (.+) as a value$", r"把损失函数 \1 当作值使用"),
    (r"^a number \(in (.+)\)$", r"一个数字（在 \1 中）"), (r"^a number \(before (.+)\)$", r"一个数字（在 \1 之前）"),
    (r"^this tensor$", "这个张量"), (r"^this index$", "这个索引"), (r"^a lambda$", "lambda 表达式"),
    (r"^a comprehension$", "推导式"), (r"^a generator expression$", "生成器表达式"), (r"^an f-string$", "f-string"),
    (r"^a comparison$", "比较运算"), (r"^a loop$", "循环"), (r"^a dict$", "字典"), (r"^a set$", "集合"),
    (r"^a list$", "列表"), (r"^a tuple$", "元组"), (r"^arithmetic$", "算术运算"), (r"^this operator$", "这个运算符"),
    (r"^this value$", "这个值"), (r"^indexing$", "索引"), (r"^this call$", "这个调用"),
    (r"^this attribute$", "这个属性"), (r"^this assignment$", "这个赋值"), (r"^\+= style assignment$", "+= 形式的赋值"),
    (r"^annotations$", "类型注解"),
    (r"^a line without a name .*$", "没有名字的一行（只有最后一行可以是单独的表达式；请写成「名字 = 表达式」）"),
    (r"^the loss$", "损失"), (r"^the loss function$", "损失函数"), (r"^indexing \[ \]$", "索引 [ ]"),
    (r"^matrix multiplication @$", "矩阵乘法 @"), (r"^an index$", "索引"), (r"^a size$", "尺寸"),
    (r"^(Attr)$", ".T"),
    (r"^(Ref|Num|Str|Apply|BinOp|Unary|Call|Method|Index|Slice|LossModule|Axis|DType|AugAssign|Stmt)$", "这个表达式"),
    (r"^Use explorer\.Experiment\.$", "请使用 explorer.Experiment。"),
    (r"^Give \(name, text\) pairs\.$", "请给出 (name, text) 这样的二元组。"),
    (r"^must be a whole number$", "必须是整数"), (r"^needs tensors on both sides$", "两边都必须是张量"),
    (r"^(\w+) must be True or False$", r"\1 必须是 True 或 False"), (r"^(\w+) must be a number$", r"\1 必须是一个数"),
    (r"^(\w+) must be one of: (.+)$", r"\1 必须是以下之一：\2"), (r"^got (\w+) twice$", r"\1 给了两次"),
    (r"^(\w+) takes 1 to (\d+) dimensions$", r"\1 接受 1 到 \2 个维度"),
    (r"^(\w+) must be a string like (.+)$", r"\1 必须是一个字符串，例如 \2"),
    (r"^a number \(in (.+), (\w+)=\)$", r"一个数字（在 \1 的 \2= 处）"),
    (r"^takes one dimension, like (.+)$", r"只接受一个维度，例如 \1"),
    (r"^the operator (\w+)=$", lambda m: f"运算符 {_OPERATORS.get(m[1], m[1])}="),
    (r"^this in-place change$", "这种原地修改"),
    (r"^keepdim must be True or False$", "keepdim 必须是 True 或 False"),
    (r"^requires_grad must be True or False$", "requires_grad 必须是 True 或 False"),
    (r"^reduction must be 'mean', 'sum' or 'none'$", "reduction 必须是 'mean'、'sum' 或 'none'"),
    (r"^sizes must be whole numbers >= 0$", "尺寸必须是 >= 0 的整数"),
    (r"^needs a size like (.+) or (.+)$", r"需要一个尺寸，例如 \1 或 \2"),
    (r"^needs a size like (.+)$", r"需要一个尺寸，例如 \1"),
    (r"^takes a size like (.+) and a number$", r"需要一个尺寸（如 \1）和一个数"),
    (r"^takes numbers only$", "只接受数字"), (r"^takes one list of numbers$", "只接受一个数字列表"),
    (r"^takes (\d+) to (\d+) positional argument\(s\), got (\d+)$", r"需要 \1 到 \2 个位置参数，实际给了 \3 个"),
    (r"^takes (\d+) positional argument\(s\), got (\d+)$", r"需要 \1 个位置参数，实际给了 \2 个"),
    (r"^takes only keyword arguments such as (.+)$", r"只接受关键字参数，例如 \1"),
    (r"^takes end, or start, end\[, step\]$", "参数应为 end，或 start, end[, step]"),
    (r"^takes (\w+) or (.+)$", r"参数应为 \1 或 \2"),
    (r"^takes (.+)$", r"参数应为 \1"), (r"^step must not be 0 .*$", "步长不能为 0，且必须从 start 指向 end"),
    (r"^on numbers failed: (.+)$", lambda m: f"数字运算失败：{_python_zh(m[1])}"),
    (r"^(.+) \(line (\d+)\)$", lambda m: f"{_syntax_zh(m[1])}（第 {m[2]} 行）"),
    (r"^(.+) \(line None\)$", lambda m: _syntax_zh(m[1])),
))

# Python 3.11's SyntaxError / IndentationError messages (ast.parse), and what `_parse` passes without a line.
_SYNTAX = _table((
    (r"^invalid syntax$", "语法错误"),
    (r"^invalid syntax\. Perhaps you forgot a comma\?$", "语法错误，是不是少了逗号？"),
    (r"^invalid syntax\. Maybe you meant '==' or ':=' instead of '='\?$", "语法错误；是不是想写「==」或「:=」而不是「=」？"),
    (r"^expression cannot contain assignment, perhaps you meant \"==\"\?$", "这里不能赋值；是不是想写「==」？"),
    (r"^expected 'except' or 'finally' block$", "try 后面缺少 except 或 finally"),
    (r"^(?:illegal target for annotation|only single target \(not \w+\) can be annotated)$", "这里不能写类型注解"),
    (r"^assignment to yield expression not possible$", "不能给 yield 赋值"),
    (r"^cannot mix bytes and nonbytes literals$", "不能把 bytes 和普通字符串连在一起"),
    (r"^cannot use assignment expressions with (.+)$", lambda m: f"不能对{_thing(m[1])}使用 :="),
    (r"^var-(?:keyword|positional) argument cannot have default value$", "*参数和 **参数不能有默认值"),
    (r"^expected default value expression$", "缺少默认值"),
    (r"^invalid imaginary literal$", "虚数写法有误"),
    (r"^unexpected indent$", "多余的缩进（这一行不该比上一行缩进更多）"),
    (r"^unindent does not match any outer indentation level$", "缩进对不上：这一行的缩进与前面任何一层都不一致"),
    (r"^inconsistent use of tabs and spaces in indentation$", "缩进里混用了 Tab 和空格"),
    (r"^expected an indented block after '(\w+)' statement on line (\d+)$",
     r"第 \2 行的 \1 语句后面需要一个缩进的代码块"),
    (r"^expected an indented block after function definition on line (\d+)$",
     r"第 \1 行的函数定义后面需要一个缩进的代码块"),
    (r"^expected an indented block.*$", "这里需要一个缩进的代码块"),
    (r"^unexpected EOF while parsing$", "代码没写完就结束了"),
    (r"^'(.)' was never closed$", r"「\1」没有闭合"),
    (r"^unmatched '(.)'$", r"多了一个「\1」：前面没有与它配对的括号"),
    (r"^closing parenthesis '(.)' does not match opening parenthesis '(.)'.*$", r"右括号「\1」与左括号「\2」不匹配"),
    (r"^expected 'else' after 'if' expression$", "if 表达式缺少 else 部分"),
    (r"^expected '(.+)'$", r"这里缺少「\1」"),
    (r"^unterminated string literal \(detected at line (\d+)\)$", "字符串缺少结尾的引号"),
    (r"^unterminated triple-quoted string literal \(detected at line (\d+)\)$", "三引号字符串没有结束"),
    (r"^invalid decimal literal$", "数字写法有误（数字后面不能直接跟字母）"),
    (r"^invalid hexadecimal literal$", "十六进制数字写法有误"),
    (r"^invalid (?:binary|octal) literal$", "二进制或八进制数字写法有误"),
    (r"^invalid digit '(.)' in binary literal$", r"二进制数字里不能有「\1」"),
    (r"^invalid digit '(.)' in octal literal$", r"八进制数字里不能有「\1」"),
    (r"^leading zeros in decimal integer literals are not permitted.*$", "十进制整数不能以 0 开头"),
    (r"^cannot assign to (.+?) here\. Maybe you meant '==' instead of '='\?$",
     lambda m: f"不能给{_thing(m[1])}赋值；是不是想写「==」而不是「=」？"),
    (r"^cannot assign to (.+)$", lambda m: f"不能给{_thing(m[1])}赋值"),
    (r"^cannot delete (.+)$", lambda m: f"不能删除{_thing(m[1])}"),
    (r"^'(.+)' is an illegal expression for augmented assignment$",
     lambda m: f"{_thing(m[1])}不能用在 += 这样的增量赋值里"),
    (r"^cannot use starred expression here$", "这里不能使用星号表达式"),
    (r"^[Gg]enerator expression must be parenthesized$", "生成器表达式必须加括号"),
    (r"^Missing parentheses in call to '(\w+)'.*$", r"调用 \1 时缺少括号"),
    (r"^positional argument follows keyword argument.*$", "位置参数不能写在关键字参数后面"),
    (r"^iterable argument unpacking follows keyword argument unpacking$", "*参数不能写在 **参数后面"),
    (r"^keyword argument repeated: (\w+)$", r"关键字参数 \1 重复了"),
    (r"^expression expected after dictionary key and ':'$", "字典的键和「:」后面缺少值"),
    (r"^unexpected character after line continuation character$", "续行符「\\」后面不能再有字符"),
    (r"^too many nested parentheses$", "括号嵌套太多"),
    (r"^invalid non-printable character (U\+[0-9A-F]+)$", r"代码里有不可打印的字符 \1"),
    (r"^invalid character '(.)' \((U\+[0-9A-F]+)\)$", r"代码里不能有字符「\1」（\2）"),
    (r"^f-string: .*$", "f-string 写法有误"),
    (r"^bytes can only contain ASCII literal characters.*$", "bytes 只能包含 ASCII 字符"),
    (r"^(?:source code )?(?:string )?cannot contain null bytes$", "代码里不能有空字符"),
    (r"^named arguments must follow bare \*$", "单独的 * 后面必须跟命名参数"),
    (r"^maximum recursion depth exceeded.*$", "嵌套太深"),
    (r"^(?:MemoryError|RecursionError)$", "代码太复杂"),
))

# What the parser names when it is given something else than text (`_check_text`).
_TYPES = _table(((r"^(NoneType|bool|int|float|complex|bytes|bytearray|list|tuple|dict|set)$", r"\1 类型的值"),))

# Python's messages for arithmetic on typed numbers (`1 / 0`, `10.0 ** 400`).
_PYTHON = _table((
    (r"^.*division (?:or modulo )?by zero$", "除数为零"), (r"^.*Numerical result out of range.*$", "结果超出范围"),
    (r"^0\.0 cannot be raised to a negative power$", "0 不能取负数次幂"),
    (r"^int too large to convert to float$", "整数太大，无法转换成浮点数"), (r"^math domain error$", "超出定义域"),
))

# torch's messages, as lang.clean_error leaves them: the common ones in Chinese, the rest quoted.
_TORCH = _table((
    (r"^Dimension out of range \(expected to be in range of \[(-?\d+), (-?\d+)\], but got (-?\d+)\)$",
     r"维度超出范围（应在 \1 到 \2 之间，实际是 \3）"),
    (r"^index (-?\d+) is out of bounds for dimension (\d+) with size (\d+)$",
     r"索引 \1 超出范围：第 \2 维的大小是 \3"),
    (r"^shape '(.+)' is invalid for input of size (\d+)$", r"形状 \1 与元素个数 \2 不符"),
    (r"^only one dimension can be inferred$", "只能有一个维度写成 -1"),
    (r"^Dimension specified as (-?\d+) but tensor has no dimensions$", r"指定了第 \1 维，但这个张量没有维度（它是单个数）"),
    (r"^clamp called but both min and max are none!?$", "clamp 至少需要 min 或 max 中的一个"),
    (r"^Expected input batch_size \((\d+)\) to match target batch_size \((\d+)\)\.?$",
     r"输入的批大小 \1 与目标的批大小 \2 不一致"),
    (r"^The size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\) at non-singleton dimension (\d+)$",
     r"两个张量在第 \3 维的大小 \1 和 \2 对不上"),
    (r"^mat1 and mat2 shapes cannot be multiplied \((\S+) and (\S+)\)$", r"形状 \1 和 \2 的矩阵无法相乘"),
    (r"^negative dimensions are not allowed$", "尺寸不能是负数"),
    (r"^too many indices for tensor of dimension (\d+)$", r"索引太多：这个张量只有 \1 维"),
    (r"^(\w+)\(\) received an invalid combination of arguments.*$", r"\1() 的参数类型不对"),
    (r"^all elements of input should be between 0 and 1$", "输入的所有元素都必须在 0 和 1 之间"),
    (r"^not enough memory: you tried to allocate (\d+) bytes\.?$", r"内存不足：要分配 \1 字节"),
    (r"^all elements of target should be between 0 and 1$", "目标的所有元素都必须在 0 和 1 之间"),
    (r"^(?:max|min)\(\): Expected reduction dim to be specified for input\.numel\(\) == 0.*$",
     "空张量不能做这个归约运算"),
))


def _match(table, text: str) -> str | None:
    """`text` in Chinese by the first pattern of `table` it matches, or None."""
    for pattern, repl in table:
        m = pattern.match(text)
        if m:
            return (repl(m) if callable(repl) else m.expand(repl)).strip()
    return None


def _quoted(text: str) -> str:
    return f"“{text}”"


def _syntax_zh(msg: str) -> str:
    """A Python syntax message in Chinese; one we have not met yet is quoted after a Chinese lead-in."""
    return _match(_SYNTAX, msg) or f"Python 报告的语法问题：{_quoted(msg)}"


def _python_zh(msg: str) -> str:
    return _match(_PYTHON, msg) or _quoted(msg)


def _torch_zh(msg: str) -> str:
    return _match(_TORCH, msg) or f"PyTorch 报告：{_quoted(msg)}"


# Details that are a message of Python or torch, by (message code, detail name).
_ZH_DETAIL = {("syntax", "detail"): lambda s: _match(_ZH, s) or _syntax_zh(s),
              ("not_allowed", "what"): lambda s: _match(_TYPES, s) or _zh(s),
              ("op_failed", "detail"): _torch_zh, ("stopped_error", "detail"): _torch_zh}


def _zh(text: str) -> str:
    return _match(_ZH, text) or text


def _show(value, lang: str = "en", where: tuple[str, str] | None = None) -> str:
    if isinstance(value, Bi):
        return value[1] if lang == "zh" else value[0]
    if lang == "zh" and isinstance(value, str):
        return _ZH_DETAIL.get(where, _zh)(value)
    if isinstance(value, (tuple, list)) and all(isinstance(v, int) for v in value):
        return "[" + ", ".join(map(str, value)) + "]"      # as torch.Size([2, 3]) prints it
    return str(value)


# Chinese prose takes full-width punctuation: ,:;?!() next to Chinese become ，：；？！（）, a period
# after Chinese becomes 。. Code keeps its own: z[:, 1], f(z, y), torch.float, '( )' as a token.
_IDEOGRAPH = re.compile(r"[\u3400-\u9fff]")
_FULL = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！", "(": "（", ")": "）"}
_CHINESE = set("「」。、…") | set(_FULL.values())


def _chinese(c: str) -> bool:
    return bool(c) and (c in _CHINESE or bool(_IDEOGRAPH.match(c)))


def fullwidth(s: str) -> str:
    """`s` with the punctuation of its Chinese sentences made full-width (see above)."""
    chars, stack = list(s), []
    for i, c in enumerate(s):
        if s[i - 1:i] == "「" and s[i + 1:i + 2] == "」":
            continue                                    # a quoted token: 「(」
        if c == "(":
            stack.append(i)
        elif c == ")" and stack:
            j = stack.pop()
            inside = s[j + 1:i]
            if inside.strip() and (_IDEOGRAPH.search(inside) or _IDEOGRAPH.match(s[j - 1:j] or "a")):
                chars[j], chars[i] = _FULL["("], _FULL[")"]
    for i, c in enumerate(chars):
        before = chars[i - 1] if i else ""
        after = chars[i + 1] if i + 1 < len(chars) else ""
        if before == "「" and after == "」":
            continue
        if c in ",:;?!" and (_chinese(before) or bool(_IDEOGRAPH.match(after))):
            chars[i] = _FULL[c]
        elif c == "." and _IDEOGRAPH.match(before or "a") and (not after or after.isspace() or _chinese(after)):
            chars[i] = "。"
    return "".join(chars)


NOTES: dict[str, tuple[str, str]] = {
    "loss_summed": ("The loss has shape {shape}, not a single number: it is summed before backward, "
                    "as the course does with loss.sum().backward().",
                    "损失的形状是 {shape}，不是单个数：反向传播前先求和，和课程里的 loss.sum().backward() 一样。"),
    "unused_trainable": ("'{name}' is trainable but the loss never uses it: it gets no gradient "
                         "({name}.grad stays None) and is never updated.",
                         "「{name}」是可训练的，但损失没有用到它：它没有梯度（{name}.grad 一直是 None），也不会被更新。"),
    "unused_trainables": ("{names} are trainable but the loss never uses them: they get no gradient "
                          "(their .grad stays None) and are never updated.",
                          "{names}是可训练的，但损失没有用到它们：它们没有梯度（.grad 一直是 None），也不会被更新。"),
    "broadcast": ("'{op}' broadcast shapes {left} and {right} to {out}. torch does this silently: "
                  "check that this is what you mean.",
                  "「{op}」把形状 {left} 和 {right} 广播成了 {out}。torch 会悄悄这样做：请确认这是你想要的。"),
    "int_data": ("'{name}' was given the integer dtype {dtype}; it is stored as float32 so it can meet the "
                 "float tensors in the loss.",
                 "「{name}」指定了整数类型 {dtype}；这里按 float32 存储，才能和损失中的浮点张量一起计算。"),
    "accumulating": ("zero_grad is off: each epoch's gradient is added to the last one, because torch "
                     "accumulates .grad. The course warns about exactly this.",
                     "未清零梯度：每一轮的梯度都会累加到上一轮上，因为 torch 默认累加 .grad。课程里正是提醒了这一点。"),
    "diverged": ("The run diverged at epoch {epoch}: the loss or a weight became inf or nan, so training "
                 "stopped there. Try a smaller learning rate.",
                 "训练在第 {epoch} 轮发散：损失或权重变成了 inf 或 nan，训练在此停止。试试更小的学习率。"),
    "loss_not_finite": ("The loss is not a finite number even with the starting weights: '{name}' is inf or nan "
                        "at epoch 1 ({line}). Look for a division by zero or the log or square root of a negative "
                        "number there; a smaller learning rate will not help.",
                        "损失在初始权重下就不是有限数：第 1 轮时「{name}」是 inf 或 nan（{line}）。"
                        "请检查这一行是否除以零，或对负数取对数、开平方；调小学习率没有用。"),
    "stopped_error": ("Training stopped at epoch {epoch}: {detail}",
                      "训练在第 {epoch} 轮停止：{detail}"),
    # the gradient check
    "gradcheck_one_sided": ("{where}: the loss is defined on one side only (an edge of its domain, such as "
                            "binary_cross_entropy's [0, 1]), so the estimate there is one-sided: "
                            "(L(w + ε) − L(w)) / ε or (L(w) − L(w − ε)) / ε, not the central difference.",
                            "{where}：损失只在一侧有定义（处在定义域的边界上，例如 binary_cross_entropy 的 [0, 1]），"
                            "所以那里的估计是单侧差分 (L(w + ε) − L(w)) / ε 或 (L(w) − L(w − ε)) / ε，而不是中心差分。"),
    "gradcheck_undefined": ("{where}: the loss is not defined on either side, within ε (outside its domain), "
                            "so there is no estimate there (nan).",
                            "{where}：在 ε 范围内两侧的损失都没有定义（超出了定义域），所以那里没有估计值（nan）。"),
    # the landscape
    "landscape_domain": ("Some points of this landscape are outside the loss's domain (torch refuses them, or the "
                         "loss is not a number there, like binary_cross_entropy of a value outside [0, 1]): they are "
                         "left as gaps.",
                         "这张损失地形图上有些点超出了损失的定义域（torch 拒绝计算，或损失在那里不是数，"
                         "例如 binary_cross_entropy 的输入超出 [0, 1]）：这些点留空。"),
    "landscape_empty": ("Nothing to draw: the trainable tensors ({names}) have no elements, so the loss has no "
                        "weight to vary.",
                        "没有可画的内容：可训练张量（{names}）没有元素，损失没有可以变化的权重。"),
}


class Note:
    """A notice for the student (not an error): the run went on, but something deserves a word."""

    def __init__(self, code: str, **details):
        self.code, self.details = code, details
        en, zh = NOTES[code]
        self.en = en.format(**{k: _show(v, "en") for k, v in details.items()})
        self.zh = fullwidth(zh.format(**{k: _show(v, "zh", (code, k)) for k, v in details.items()}))

    def message(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en

    def __str__(self):
        return self.en

    def __repr__(self):
        return f"Note({self.code!r}, {self.en!r})"

    def __eq__(self, other):
        return isinstance(other, Note) and (self.code, self.en) == (other.code, other.en)

    def __hash__(self):
        return hash((self.code, self.en))
