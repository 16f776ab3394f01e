"""The text a student types, before any of it is read as code: its length, its characters, its syntax,
and the words the messages use to name what is not allowed.
"""
from __future__ import annotations

import ast
import builtins
import io
import keyword
import math
import operator
import re
import textwrap
import tokenize

from .. import limits as L
from ..errors import Bi, ExplorerError
from .ops import BARE, MODULES, OPS

PYOPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
         "**": operator.pow, "@": operator.matmul, ">": operator.gt, "<": operator.lt, ">=": operator.ge,
         "<=": operator.le, "==": operator.eq}
IN_PLACE_OPS = {"+": operator.iadd, "-": operator.isub, "*": operator.imul, "/": operator.itruediv,
                "**": operator.ipow, "@": operator.imatmul}
FACTORIES = ("tensor", "ones", "zeros", "rand", "randn", "full", "eye", "arange", "linspace")
NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
RESERVED = {"torch", "F", "nn", "functional", "True", "False", "None"} | set(BARE) \
    | {n for n, op in OPS.items() if op.module} | set(MODULES) | set(FACTORIES) | set(keyword.kwlist) \
    | set(keyword.softkwlist) | {n for n in dir(builtins) if not n.startswith("_")}   # the exported script must run

READABLE = {
    "Lambda": "a lambda", "ListComp": "a comprehension", "SetComp": "a comprehension",
    "DictComp": "a comprehension", "GeneratorExp": "a generator expression", "JoinedStr": "an f-string",
    "FormattedValue": "an f-string", "Import": "import", "ImportFrom": "import", "Compare": "a comparison",
    "BoolOp": "and/or", "IfExp": "if/else", "If": "if", "For": "a loop", "While": "a loop",
    "With": "with", "FunctionDef": "def", "ClassDef": "class", "Return": "return", "Delete": "del",
    "Global": "global", "Nonlocal": "nonlocal", "Try": "try", "Raise": "raise", "Assert": "assert",
    "AugAssign": "this in-place change", "AnnAssign": "annotations", "Starred": "*args",
    "Dict": "a dict", "Set": "a set", "List": "a list", "Await": "await", "Yield": "yield",
    "NamedExpr": ":=", "Bytes": "bytes", "Pass": "pass", "Break": "break", "Continue": "continue",
    "Expr": "a line without a name (only the last line may be a bare expression; write name = expression)",
    "BinOp": "arithmetic", "UnaryOp": "this operator", "Constant": "this value", "Subscript": "indexing",
    "Tuple": "a tuple", "Call": "this call", "Attribute": "this attribute", "Assign": "this assignment",
    "Match": "match", "TryStar": "try", "AsyncFunctionDef": "def", "AsyncFor": "a loop", "AsyncWith": "with",
    "YieldFrom": "yield",
}
LOSS_HELP = Bi((
    "Allowed: numbers, your tensor names, + - * / ** @, comparisons like w > 0 (masks), ( ), indexing like "
    "z[0], z[:, 1], z[z > 0] or z[..., None], functions such as torch.relu(z), F.softmax(z, dim=1) or "
    "F.mse_loss(z, y), methods such as z.sum(), z.mul(w) or z.max(dim=1).values, sizes such as len(z) or "
    "z.shape[0], torch.cat([a, b]), constants such as torch.tensor([0, 1]), lines of the form name = expression, "
    "and in-place changes such as z += 1 or z.clamp_(min=0).",
    "允许的写法:数字、你的张量名、+ - * / ** @、比较如 w > 0(掩码)、( )、索引如 z[0]、z[:, 1]、z[z > 0] 或 "
    "z[..., None]、函数如 torch.relu(z)、F.softmax(z, dim=1) 或 F.mse_loss(z, y)、方法如 z.sum()、z.mul(w) 或 "
    "z.max(dim=1).values、尺寸如 len(z) 或 z.shape[0]、torch.cat([a, b])、常量如 torch.tensor([0, 1])、"
    "「名字 = 表达式」形式的多行,以及原地修改如 z += 1 或 z.clamp_(min=0)。"))
TENSOR_HELP = Bi((
    "A tensor is a number, a nested list like [[1, 2], [3, 4]], or one of "
    "torch.tensor/ones/zeros/rand/randn/full/eye/arange/linspace with number arguments.",
    "张量可以是一个数、嵌套列表如 [[1, 2], [3, 4]],或者参数为数字的 "
    "torch.tensor/ones/zeros/rand/randn/full/eye/arange/linspace。"))


# ---------------------------------------------------------------- text checks



def check_text(text, field: str, help_text: str) -> str:
    """Length and look-alike characters, before anything is interpreted; returns the text with one
    kind of line break, so the parser reads the very lines this check passed."""
    if not isinstance(text, str):
        raise ExplorerError("not_allowed", field, what=type(text).__name__, allowed=help_text)
    if len(text) > L.MAX_TEXT:
        raise ExplorerError("too_long", field, length=len(text), limit=L.MAX_TEXT)
    if not text.strip():
        raise ExplorerError("empty", field)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    code = _without_comments(text, field)
    for pos, ch in enumerate(code, 1):
        if not ch.isascii() or (ord(ch) < 32 and ch not in "\n\t\r"):
            raise ExplorerError("non_ascii", field, char=ch if ch.isprintable() else repr(ch), pos=pos)
    return text


def _without_comments(text: str, field: str) -> str:
    """Comments may be in any language (the course's are Chinese); code must be ASCII."""
    lines = io.StringIO(text).readlines()     # the lines tokenize numbers (splitlines also splits at \r)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                (row, col), (_, end) = tok.start, tok.end
                line = lines[row - 1]
                lines[row - 1] = line[:col] + " " * (end - col) + line[end:]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass        # ast.parse reports the real problem
    return "".join(lines)


def parse_text(text: str, field: str, help_text: str) -> ast.Module:
    text = check_text(text, field, help_text)
    try:
        tree = ast.parse(textwrap.dedent(text.strip("\n")), mode="exec")     # pasted from inside a function
    except SyntaxError as e:
        raise ExplorerError("syntax", field, detail=f"{e.msg} (line {e.lineno})") from None
    except (ValueError, RecursionError, MemoryError) as e:
        raise ExplorerError("syntax", field, detail=str(e) or type(e).__name__) from None
    if not tree.body:
        raise ExplorerError("empty", field)
    count, stack = 0, [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > L.MAX_DEPTH:
            raise ExplorerError("too_deep", field, limit=L.MAX_DEPTH)
        if count > L.MAX_NODES:
            raise ExplorerError("too_many_ops", field, limit=L.MAX_NODES)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    if len(tree.body) > L.MAX_LINES:
        raise ExplorerError("too_many_lines", field, limit=L.MAX_LINES)
    return tree


def reject(node, field, help_text=LOSS_HELP):
    what = READABLE.get(type(node).__name__, f"'{type(node).__name__}'")
    raise ExplorerError("not_allowed", field, what=what, allowed=help_text)


def check_name(name, field: str = "name") -> str:
    if not isinstance(name, str) or not NAME_RE.match(name) or len(name) > L.MAX_NAME or name in RESERVED:
        raise ExplorerError("bad_name", field, name=name, limit=L.MAX_NAME)
    return name


# ---------------------------------------------------------------- the loss


def dotted(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def literal(v, field):
    if isinstance(v, float) and not math.isfinite(v) or abs(v) > L.MAX_LITERAL:
        raise ExplorerError("literal_too_large", field, value=v, limit=f"{L.MAX_LITERAL:g}")
    return v


def fold(op, a, b, field):
    """Arithmetic on typed numbers alone, bounded so `9 ** 9 ** 9` cannot run away."""
    if op == "@":
        raise ExplorerError("bad_argument", field, func="@", detail="needs tensors on both sides")
    if op == "**" and abs(b) > L.MAX_EXPONENT:
        raise ExplorerError("exponent_too_large", field, value=b, limit=L.MAX_EXPONENT)
    try:
        r = PYOPS[op](a, b)
    except (ZeroDivisionError, OverflowError, ValueError) as e:
        raise ExplorerError("bad_argument", field, func=op, detail=f"on numbers failed: {e}") from None
    if isinstance(r, complex):
        raise ExplorerError("bad_argument", field, func=f"({a}) {op} {b}",
                            detail=Bi(("is not a real number (a negative number to a fractional power)",
                                       "不是实数(负数的非整数次幂)")))
    if abs(r) > L.MAX_CONSTANT or not math.isfinite(r):
        raise ExplorerError("literal_too_large", field, value=f"{a} {op} {b}", limit=f"{L.MAX_CONSTANT:g}")
    return r
