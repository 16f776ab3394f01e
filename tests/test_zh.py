"""The Chinese page speaks Chinese: every rejection and note reads as Chinese prose, with full-width
punctuation, with the inputs named as the page labels them; and no message in either language shows
the app's internals.

"English left over" is judged by a heuristic: after code (quoted or backticked text, calls, dotted or
underscored identifiers, numbers) is taken out, no two English words of 3+ letters may stand in a row.
"""
from __future__ import annotations

import ast
import re

import pytest

import explorer
from explorer import Experiment, ExplorerError, Note
from explorer import limits as L
from explorer.errors import FIELD_ZH, MESSAGES, NOTES, field_label
from explorer.lang import REFUSED
from explorer.presets import EXAMPLES
from explorer.ui import text as ui_text
from hypothesis import HealthCheck, given, settings
from test_lang import ESCAPES, SMALL, SOUP, _escape_experiment, _loss_exp, _tensor_exp

pytestmark = [pytest.mark.filterwarnings("ignore:The use of `x.T` on tensors"),
              pytest.mark.filterwarnings("ignore::SyntaxWarning"),     # ast.parse on token soup
              pytest.mark.filterwarnings("ignore:Tensor.T is deprecated")]

CJK = re.compile(r"[\u3400-\u9fff]")
HALF_AFTER_CJK = re.compile(r"[\u3400-\u9fff][,.:;?!()]")
INTERNALS = re.compile(r"\.cpp\b|Traceback|\b(?:LossModule|Unary|BinOp|Method|Attr|Ref|Num|Apply|Program|Slice)\b")
AST_OPS = re.compile(r"\b(?:BitAnd|BitOr|BitXor|LShift|RShift|FloorDiv|Mod|MatMult|Invert|UAdd|USub)\b")
CODE = [re.compile(p) for p in (
    r"“[^”]*”|'[^']*'|\"[^\"]*\"|`[^`]*`",                 # quoted originals and code
    r"[A-Za-z_][\w.]*\([^()]*\)",                          # calls: torch.relu(z), .sum()
    r"[\w]*[._][\w.]*",                                    # dotted and underscored identifiers
    r"\d[\w.]*",                                           # numbers
)]
ENGLISH_RUN = re.compile(r"[A-Za-z]{3,}\s+[A-Za-z]{3,}")


def english_left(zh: str) -> list[str]:
    for pattern in CODE:
        zh = pattern.sub(" ", zh)
    return ENGLISH_RUN.findall(zh)


def check_zh(zh: str) -> None:
    assert CJK.search(zh), zh
    assert not english_left(zh), f"English left in the Chinese message: {english_left(zh)}: {zh}"
    assert not HALF_AFTER_CJK.search(zh), f"half-width punctuation in Chinese prose: {zh}"
    assert not AST_OPS.search(zh), zh


def check_no_internals(e) -> None:
    for text in (e.en, e.zh):
        assert not INTERNALS.search(text), text


def error_of(exp_or_call) -> ExplorerError:
    with pytest.raises(ExplorerError) as info:
        exp_or_call() if callable(exp_or_call) else explorer.run(exp_or_call)
    return info.value


def loss_exp(loss, **kw):
    return Experiment(tensors=SMALL, trainable=("w",), loss=loss, **kw)


def tensor_exp(text):
    return Experiment(tensors={"w": "[1., 2.]", "t": text}, trainable=("w",), loss="w.sum()")


# Python 3.11's syntax messages, each reached by a snippet (see the _SYNTAX table in explorer/errors.py)
SYNTAX = ["w +", "w w", "f(w w)", "[1 2]", "(w", "w[", "x = {", "w)", "x = }", "w[1)", "if w\n  pass",
          "x = 1\n  y = 2", "if w:\n    x = 1\n  y = 2", "for x in y:\nz", "if w:\nw", "def f():\n  pass\ndef g():\nz",
          "'abc", '"""abc', "1a", "1__0", "0x", "0b2", "0o8", "0777", "1 = w", "w + 1 = 2", "f() = 1", "None = 1",
          "...=1", "a = 1 = 2", "a + 1 += 2", "(*w)", "f(a for a in b, c)", "print 'x'", "f(x=1, 2)", "f(**a, *b)",
          "a = {1: }", "w \\ 3", "w\\", "a = 1 if b", "f'{'", "f'{}'", "def f(*): pass", "(" * 250 + ")" * 250,
          "w ** ", "loss = w *", "x = w.sum(", "x = (w + 1))", "w.sum(,)", "1 := w", "w.x := 1", "try:\n  w\nx = 1",
          "w.sum() : int = 1", "(a, b): int = 1", "b'' 'a'", "1j2", "x = a, b = ", "x = yield = 1", "del 1",
          "def f(*a=1): pass", "def f(a=): pass", "(yield) = 1", "del (w < 1)", "\x7f"]

FIELD_CASES = [     # (experiment, the field its error names)
    (loss_exp("w.__class__"), "loss"),
    (tensor_exp("torch.load('x')"), "tensor t"),
    (Experiment(tensors={}, trainable=(), loss="w.sum()"), "tensors"),
    (Experiment(tensors={"w": "[1.]"}, trainable=("q",), loss="w.sum()"), "trainable"),
    (Experiment(tensors={"w": "[1.]"}, trainable=(), loss="w.sum()"), "trainable"),
    (loss_exp("w.sum()", lr=-1.0), "lr"),
    (loss_exp("w.sum()", epochs=0), "epochs"),
    (loss_exp("w.sum()", seed=-1), "seed"),
    (loss_exp("w.sum()", optimizer="rmsprop"), "optimizer"),
]

BAD = (
    [(f"escape_{c[0]}", _escape_experiment(c[1], c[2])) for c in ESCAPES]
    + [(f"syntax_loss_{i}", loss_exp(s)) for i, s in enumerate(SYNTAX)]
    + [(f"syntax_tensor_{i}", tensor_exp(s)) for i, s in enumerate(SYNTAX)]
    + [(f"field_{f}_{i}", exp) for i, (exp, f) in enumerate(FIELD_CASES)]
    + [(f"loss_{i}", loss_exp(s)) for i, s in enumerate([
        "", "w" + " " * L.MAX_TEXT, "(" * 80 + "w" + ")" * 80, "\n".join(f"a{i} = w" for i in range(L.MAX_LINES + 1)),
        "w ＋ v", "w & w", "w // 2", "~w", "not w", "w < v", "w if v else w", "lambda: w", "[w for x in v]",
        "{w: 1}", "{w}", "f'{w}'", "w += 1", "x: int = 1", "x = w\nx\nloss = w.sum()", "w.foo()", "foo(w)",
        "q * 2", "torch.relu", "F.mse_loss * 2", "torch.nn", "w(1)", "w.sum(foo=1)", "w.sum(keepdim=2)",
        "F.mse_loss(w, v, reduction='avg')", "F.mse_loss(w, v, 'mean')", "w.reshape(1, 1, 1, 1, 1, 2)",
        "w.sum(0.5)", "w @ 2", "2 @ w", "1 / 0 * w", "(-1) ** 0.5 * w", "w * 1e400", f"w ** {L.MAX_EXPONENT + 1}",
        "10.0 ** 300 * w", "w * 9 ** 9 ** 9", "torch.relu(2)", "(2).sum()", "w.sum(dim=5)", "w[5]", "w.reshape(3)",
        "w[0, 0]", "torch.ones(3) + w", "w @ torch.ones(3)", "F.mse_loss(w, torch.ones(3))",
        "w.reshape(2, -1, -1)", "torch.nn.MSELoss() + w", "-torch.nn.MSELoss()", "f = torch.nn.MSELoss()\nf * 2",
        "w.backward()", "w.grad", "w.grad.zero_()", "optimizer.step()", "w.sum()\nw.sum()", "loss = 2",
        "v.sum()", "w.unsqueeze(0).unsqueeze(0).unsqueeze(0).unsqueeze(0).unsqueeze(0).unsqueeze(0)",
        "w.reshape(100000, -1)", "F.binary_cross_entropy(w, v)", "print = w\nprint.sum()",
    ])]
    + [(f"tensor_{i}", tensor_exp(s)) for i, s in enumerate([
        "", "[[1, 2], [3]]", "torch.tensor([10, 20], requires_grad=True)", "torch.ones(2, dtype=torch.long)",
        "torch.ones(2, dtype=torch.int)", "torch.ones(2, dtype=torch.bool)", "torch.ones(2, dtype=torch.complex64)",
        "torch.ones(2, foo=1)", "torch.ones(2, requires_grad=1)", "torch.tensor(1, 2)", "torch.ones()",
        "torch.ones(-1)", "torch.ones(0.5)", "torch.full(2)", "torch.eye()", "torch.arange()", "torch.arange(0, 5, 0)",
        "torch.arange(5, 0)", "torch.linspace(0)", f"torch.ones({L.MAX_ELEMENTS + 1})", "torch.ones(1, 1, 1, 1, 1, 1, 1)",
        "torch.ones('a')", "x = torch.ones(2)", "torch.foo(2)", "w", "1e400", "[w]", "torch.ones(2) + 1",
    ])]
    + [("name_bad", Experiment(tensors={"1w": "[1.]"}, trainable=("1w",), loss="1w.sum()")),
       ("name_keyword", Experiment(tensors={"print": "[1.]"}, trainable=("print",), loss="print.sum()")),
       ("name_twice", Experiment(tensors=[("w", "[1.]"), ("w", "[2.]")], trainable=("w",), loss="w.sum()")),
       ("name_mismatch", Experiment(tensors={"w": "v = [1.]"}, trainable=("w",), loss="w.sum()")),
       ("ignores_trainable", Experiment(tensors=SMALL, trainable=("w",), loss="v.sum()")),
       ("history", Experiment(tensors={"w": f"torch.ones({L.MAX_ELEMENTS})"}, trainable=("w",), loss="w.sum()",
                              epochs=L.MAX_EPOCHS)),
       ("work", Experiment(tensors={"w": f"torch.ones({L.MAX_ELEMENTS})"}, trainable=("w",),
                           loss="(w * w * w * w * w * w).sum()", epochs=L.MAX_EPOCHS)),
       ("bce_first_epoch", Experiment(tensors={"w": "[2., 3.]", "y": "[1., 0.]"}, trainable=("w",),
                                      loss="F.binary_cross_entropy(w, y)"))]
)


def _safe_bad():
    out = []
    for case_id, exp in BAD:
        out.append(pytest.param(exp, id=case_id))
    return out


@pytest.mark.parametrize("exp", _safe_bad())
def test_chinese_message_is_chinese_prose(exp):
    try:
        explorer.run(exp)
    except ExplorerError as e:
        check_zh(e.zh)
        check_no_internals(e)
        if e.field:
            assert f"\u300c{e.field}\u300d" not in e.zh or e.field == field_label(e.field, "zh"), e.zh
    else:
        pytest.skip("accepted")


@pytest.mark.parametrize("text", ["w +", "f(w w)", "(w", " y = 2", "'abc", "1a", "1 = w"])
def test_syntax_errors_explained_in_chinese_with_the_line(text):
    e = error_of(loss_exp("loss = w.sum()\n" + text))
    assert e.code == "syntax" and "(line 2)" in e.en and "\u7b2c 2 \u884c" in e.zh
    assert "invalid" not in e.zh and "line" not in e.zh


def test_python_syntax_messages_all_have_chinese():
    """Every message the snippets make is in the table: none falls back to the quoted original."""
    from explorer.errors import _SYNTAX, _match
    for snippet in SYNTAX:
        try:
            ast.parse(snippet)
        except SyntaxError as err:
            assert _match(_SYNTAX, err.msg), err.msg
        except (ValueError, RecursionError, MemoryError):
            pass


def test_unknown_syntax_message_is_quoted_after_chinese():
    e = ExplorerError("syntax", "loss", detail="some brand new complaint (line 3)")
    assert "\u201csome brand new complaint\u201d" in e.zh and "\u7b2c 3 \u884c" in e.zh
    check_zh(e.zh)


def test_unknown_torch_message_is_quoted_after_chinese():
    e = ExplorerError("op_failed", "loss", op=".sum()", detail="something torch says now")
    assert "PyTorch" in e.zh and "\u201csomething torch says now\u201d" in e.zh
    check_zh(e.zh)


@pytest.mark.parametrize("exp,field", FIELD_CASES, ids=[f for _, f in FIELD_CASES])
def test_field_is_named_by_its_label_but_kept_as_the_key(exp, field):
    e = error_of(exp)
    assert e.field == field
    if "{field}" in MESSAGES[e.code][1]:
        assert f"\u300c{field_label(field, 'zh')}\u300d" in e.zh
        assert f"'{field}'" in e.en


# errors.py's field -> the TEXT key of the label the page shows for that input
LABEL_KEYS = {"loss": "loss", "tensors": "tensors", "trainable": "trainable", "lr": "lr", "epochs": "epochs",
              "optimizer": "optimizer", "seed": "seed", "epoch": "epoch", "experiment": "inputs", "name": "tensor_name"}


def test_field_labels_are_the_pages_labels():
    assert set(FIELD_ZH) == set(LABEL_KEYS)
    for field, key in LABEL_KEYS.items():
        assert FIELD_ZH[field] == ui_text.t(key, "zh"), field
    assert field_label("tensor w", "zh") == f"{ui_text.t('tensors', 'zh')} w"
    assert field_label("loss", "en") == "loss" and field_label(None, "zh") == ""


def test_notes_are_chinese_prose():
    notes = list(explorer.run(Experiment(tensors={"a": "torch.ones(3, 1)", "b": "[1., 2., 3.]", "u": "[1.]",
                                                  "k": "torch.ones(2, dtype=torch.long)"},
                                         trainable=("a", "u"), loss="a - b", zero_grad=False, epochs=2)).notes)
    notes += explorer.run(loss_exp("(w ** 4).sum()", lr=10.0, epochs=50)).notes
    notes += explorer.run(loss_exp("(w / 0).sum()", epochs=2)).notes
    notes += [Note("stopped_error", epoch=3, detail="all elements of input should be between 0 and 1"),
              Note("stopped_error", epoch=3, detail="an unheard-of failure")]
    codes = {n.code for n in notes}
    assert {"broadcast", "unused_trainable", "loss_summed", "int_data", "accumulating", "diverged",
            "loss_not_finite", "stopped_error"} <= codes, codes
    for note in notes:
        check_zh(note.zh)
        check_no_internals(note)


def test_every_message_formats_in_chinese_prose():
    """Each template, filled with typical details, in the Chinese the student reads."""
    sample = dict(field="tensor w", length=5000, limit=10, char="\uff57", pos=3, what="this tensor",
                  allowed="abs, exp", name="w", known="w, v", func="torch.ones", detail="takes numbers only",
                  count=12, text="torch.tensor([10, 20], requires_grad=True)", dtype="int64", other="v",
                  value=1e10, op="'+'", left=(2,), right=(3,), names="w", work="1e9", per_epoch="1e6",
                  epochs=1000, fit=10, mb=300, epoch=5, last=3, low=0.0001, high=10, shape=(2,), out=(2, 3),
                  line="loss = w / 0", time="12 s", where="w[1], w[0, 2]", points=9, why=REFUSED["out"],
                  src="y += 1", fix="y = y + 1", saver="y = w.sigmoid()", saver_line=1, fn="SigmoidBackward0",
                  saved=0, now=1)
    for code, (en, zh) in MESSAGES.items():
        keys = set(re.findall(r"\{(\w+)\}", en + zh)) - {"field"}
        e = ExplorerError(code, "tensor w", **{k: sample[k] for k in keys})
        check_zh(e.zh)
    for code in NOTES:
        keys = set(re.findall(r"\{(\w+)\}", " ".join(NOTES[code])))
        check_zh(Note(code, **{k: sample[k] for k in keys}).zh)


def test_page_texts_use_full_width_punctuation():
    notes = [ex.note for ex in EXAMPLES.values() if ex.note]
    pairs = list(ui_text.TEXT.values()) + [ex.title for ex in EXAMPLES.values()] + [o.title for o in ui_text.OPTIMIZER_TABLE.values()]
    pairs += notes
    for _en, zh in notes:
        check_zh(zh)
    for _en, zh in pairs:
        assert not HALF_AFTER_CJK.search(zh), zh
        assert not re.search(r"[,:;]\s*[\u3400-\u9fff]", zh.replace("Language / ", "")), zh


def test_code_keeps_its_punctuation():
    from explorer.errors import fullwidth
    assert fullwidth("\u4f8b\u5982 z[:, 1] \u6216 f(z, y)\u3002") == "\u4f8b\u5982 z[:, 1] \u6216 f(z, y)\u3002"
    assert fullwidth("\u8fd9\u91cc\u7f3a\u5c11\u300c:\u300d") == "\u8fd9\u91cc\u7f3a\u5c11\u300c:\u300d"
    assert fullwidth("\u5f20\u91cf(w, b),\u6ca1\u6709.") == "\u5f20\u91cf\uff08w, b\uff09\uff0c\u6ca1\u6709\u3002"
    assert fullwidth("+ - * / ** @\u3001( )\u3001") == "+ - * / ** @\u3001( )\u3001"


@pytest.mark.parametrize("detail", [
    "Dimension out of range (expected to be in range of [-1, 0], but got 1)",
    "index 5 is out of bounds for dimension 0 with size 2", "shape '[3]' is invalid for input of size 2",
    "only one dimension can be inferred", "too many indices for tensor of dimension 1",
    "all elements of input should be between 0 and 1", "all elements of target should be between 0 and 1",
    "sum() received an invalid combination of arguments - got (float), but expected one of:",
    "Dimension specified as 1 but tensor has no dimensions", "clamp called but both min and max are none!",
    "Expected input batch_size (3) to match target batch_size (2).",
    "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 0",
    "mat1 and mat2 shapes cannot be multiplied (4x2 and 3x2)", "negative dimensions are not allowed",
])
def test_common_torch_messages_are_translated(detail):
    for zh in (ExplorerError("op_failed", "loss", op=".sum()", detail=detail).zh,
               Note("stopped_error", epoch=2, detail=detail).zh):
        assert "\u201c" not in zh and "PyTorch" not in zh, zh
        check_zh(zh)


@settings(deadline=1000, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(SOUP)
def test_fuzz_chinese_messages_of_token_soup(text):
    """Whatever a student types, the Chinese message is Chinese prose and shows no internals."""
    for exp in (_loss_exp(text), _tensor_exp(text)):
        try:
            explorer.run(exp)
        except ExplorerError as e:
            check_zh(e.zh)
            check_no_internals(e)


def test_kink_notes_are_chinese_prose():
    from explorer.lang.ops import KINKS
    for _at, (en, zh) in KINKS.values():
        assert en != zh
        check_zh(zh)


def test_gradient_check_texts_are_chinese_prose():
    for key in ("gradcheck", "gradcheck_intro", "gradcheck_all", "gradcheck_spread", "gradcheck_none",
                "gradcheck_unreached", "gradcheck_detached", "kink", "kink_value", "gradcheck_failed"):
        check_zh(ui_text.TEXT[key][1])
