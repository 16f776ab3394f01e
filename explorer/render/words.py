"""The words drawn on graphs and figures, English and Chinese side by side so the two never drift apart."""
from __future__ import annotations

WORDS = {
    "en": dict(zeros="{n} zeros", value="value", grad="grad", shape="shape", scalar="scalar", saved="saved",
               more="… {n} more nodes (limit {limit})", loss="Loss", epoch="Epoch",
               params="Parameters", grads="Gradients", abs_grads="|gradient|", param_value="value",
               omitted="{n} more omitted (limit {limit})", nonfinite="{n} non-finite values not shown",
               note="{title} ({note})", landscape="Loss landscape", path="path of the run",
               tangent="slope at epoch {k}: grad = {g}", step="step to epoch {k2}: w − lr·grad",
               slice="slice through {a} and {b}; the other weights as at epoch {k}", shown="epoch {k}",
               random="slice through two random filter-normalised directions d1, d2, centred on epoch {k}'s weights",
               race="Optimizer race: loss per epoch", leader="leader", leads="{name} leads",
               at_lr="{name} · lr {lr}", diverged="{name} (diverged at epoch {d})",
               race_landscape="The racers' paths on the loss landscape"),
    "zh": dict(zeros="{n} 个 0", value="值", grad="梯度", shape="形状", scalar="标量", saved="保存的张量",
               more="… 还有 {n} 个节点未显示（上限 {limit}）", loss="损失", epoch="轮次",
               params="参数", grads="梯度", abs_grads="|梯度|", param_value="值",
               omitted="另有 {n} 条未显示，上限 {limit}", nonfinite="{n} 个非有限值未显示",
               note="{title}（{note}）", landscape="损失地形", path="训练路径",
               tangent="第 {k} 轮的斜率：grad = {g}", step="走到第 {k2} 轮：w − lr·grad",
               slice="穿过 {a} 和 {b} 的切面；其余权重取第 {k} 轮的值", shown="第 {k} 轮",
               random="穿过两个按滤波器归一化的随机方向 d1、d2 的切面，以第 {k} 轮的权重为中心",
               race="优化器比赛：每轮的损失", leader="领先者", leads="{name} 领先",
               at_lr="{name} · 学习率 {lr}", diverged="{name}（第 {d} 轮发散）",
               race_landscape="各优化器在损失地形上的路径"),
}



def _fit_cjk(words: dict) -> dict:
    """The graph's words with room for their Chinese glyphs. The browser's Graphviz sizes a box from
    Helvetica's letter widths; a CJK glyph is drawn wider than it is measured, so a row gets a
    no-break space per glyph at its end (`<word>_pad`) and the text stays inside its box."""
    def pad(text: str) -> str:
        return "\u00a0" * sum(1 for c in text if "\u2e80" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef")
    fitted = {**words, "more": words["more"] + pad(words["more"])}
    fitted.update({f"{k}_pad": pad(words[k]) for k in ("value", "grad", "shape", "scalar", "saved")})
    return fitted


WORDS["zh"] = _fit_cjk(WORDS["zh"])


def words(lang: str) -> dict:
    return WORDS.get(lang, WORDS["en"])
