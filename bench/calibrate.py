"""`python -m bench calibrate`: the page budget's estimates against measured CPU time, part by part.

Every op-table example (over small and large tensors) and every preset is run as a page would run it:
training, one epoch traced with every step drawn and explained, the gradient check, and both kinds of
landscape. Each part's CPU time (this thread's, so other processes barely matter) is divided by
`explorer.budget`'s estimate for it. The estimate is useful when the ratios sit close together: the
report gives each part's median and spread, and `--fit` prints the rates a least-squares fit suggests
for this machine (what `budget.py` holds was fitted on the dev box).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
import torch

import explorer
from explorer import OPTIMIZERS, PRESETS, Experiment, ExplorerError, budget
from explorer.engine import _train, make_tensors
from explorer.explain import explain_step
from explorer.lang.ops import OPS
from explorer.render import to_dot

SMALL = {"w": "torch.randn(2, 3)", "v": "torch.randn(3)", "x": "torch.randn(3, 2)", "u": "torch.randn(2, 3)"}
LARGE = {"w": "torch.randn(60, 100)", "v": "torch.randn(100)", "x": "torch.randn(100, 60)", "u": "torch.randn(60, 100)"}
PARTS = ("train", "trace", "check", "landscape")
# Much data, few weights: a page's cost must follow the values computed, not only the weights trained.
DATA_HEAVY = {
    "wide_linear": Experiment(tensors={"x": "torch.randn(2000, 5)", "y": "torch.zeros(2000, 3)", "w": "torch.randn(5, 3)",
                                       "b": "torch.zeros(3)"}, trainable=("w", "b"),
                              loss="z = x @ w + b\nloss = F.mse_loss(z, y)", lr=1e-6),
    "wide_mlp": Experiment(tensors={"x": "torch.randn(1000, 10)", "y": "torch.randn(1000, 1)", "W1": "torch.randn(10, 50)",
                                    "b1": "torch.zeros(50)", "W2": "torch.randn(50, 1)", "b2": "torch.zeros(1)"},
                           trainable=("W1", "b1", "W2", "b2"),
                           loss="h = torch.tanh(x @ W1 + b1)\nloss = F.mse_loss(h @ W2 + b2, y)", lr=1e-6),
    "wide_softmax": Experiment(tensors={"x": "torch.randn(500, 20)", "w": "torch.randn(20, 10)"}, trainable=("w",),
                               loss="p = torch.softmax(x @ w, dim=1)\nloss = (p * torch.log(p)).sum()", lr=1e-6),
}
TARGET = 0.02          # seconds of training measured per case: enough epochs to see past the clock's grain


def cases(large: bool = True) -> list[tuple[str, Experiment]]:
    """(name, experiment) for every preset under every optimizer, and every op-table example that plans."""
    out = [(f"{k}/{o}", e.replace(optimizer=o)) for k, e in {**PRESETS, **DATA_HEAVY}.items() for o in OPTIMIZERS]
    sizes = (("", SMALL), ("+", LARGE)) if large else (("", SMALL),)
    k = 0
    for op in OPS.values():
        for i, text in enumerate(op.examples):
            for tag, tensors in sizes:
                optimizer = OPTIMIZERS[k % len(OPTIMIZERS)] if tag else "gd"    # large: every update's cost
                k += bool(tag)
                out.append((f"{op.name}#{i}{tag}", Experiment(tensors=tensors, trainable=("w",), loss=text, lr=1e-6,
                                                            optimizer=optimizer)))
    kept = []
    for name, e in out:
        try:
            explorer.plan(e.replace(epochs=1))
        except ExplorerError:
            continue            # an example written for the small shapes
        kept.append((name, e))
    return kept


def _cpu(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.thread_time()
        out = fn()
        best = min(best, time.thread_time() - t)
    return best, out


def measure(exp: Experiment, repeats: int = 2) -> dict:
    """{part: (measured ns, estimated ns)} for one experiment, as a page view would ask for each part, and
    what the fit needs: "cost", "optimizer", "checked" (elements per tensor), "points" (of both landscapes)."""
    one = explorer.plan(exp.replace(epochs=1))
    epochs = max(3, min(500, int(TARGET * 1e9 / max(1.0, one.work))))
    p = explorer.plan(exp.replace(epochs=epochs))
    c = p.cost
    out = {}
    t, r = _cpu(lambda: _train(p, make_tensors(p)), repeats)
    out["train"] = (t * 1e9 / len(r.history), budget.epoch_ns(c, exp.optimizer))

    def walk():
        g = r.trace(1)
        for s in range(g.steps + 1):
            to_dot(g, s)
            explain_step(g, s)
    t, _ = _cpu(walk, repeats)
    out["trace"] = (t * 1e9, budget.trace_ns(c))
    t, rep = _cpu(lambda: explorer.gradcheck_report(r, 1), repeats)
    out["check"] = (t * 1e9, budget.check_ns(c, rep.per_tensor))
    t, lands = _cpu(lambda: [explorer.landscape(r, 1, directions=d) for d in ("moved", "random")], repeats)
    points = sum(land.loss.numel() for land in lands)
    out["landscape"] = (t * 1e9, budget.landscape_ns(c, points, len(r.history)) + budget.landscape_ns(c, 0, len(r.history)))
    return {**out, "cost": c, "optimizer": exp.optimizer, "checked": rep.per_tensor, "points": points,
            "epochs": len(r.history)}


def fit(rows, part: str) -> np.ndarray:
    """Non-negative least squares of measured ns on [1, ops, elements, flops, trainable elements] (relative
    error); training adds, per optimizer, [trainable tensors, trainable elements] for its update."""
    X = np.array([[1.0, r["cost"].ops, r["cost"].elements, r["cost"].flops, r["cost"].params] for r in rows], float)
    if part == "trace":
        X = np.hstack([X, np.array([[budget.steps_drawn(r["cost"])] for r in rows], float)])
    if part == "train":
        X = np.hstack([X[:, :4]] + [np.array([[r["cost"].tensors, r["cost"].params] if r["optimizer"] == o else [0, 0]
                                        for r in rows], float) for o in OPTIMIZERS])
    if part == "check":
        X *= np.array([[2 * r["checked"] * max(1, r["cost"].tensors) + 3] for r in rows], float)
    if part == "landscape":
        X[:, 2] = [r["cost"].batched for r in rows]
        X = np.hstack([X, np.array([[r["cost"].unbatched, r["cost"].rows] for r in rows], float)])
        X *= np.array([[r["points"]] for r in rows], float)
        X = np.hstack([X, np.array([[2, 2 * r["epochs"]] for r in rows], float)])     # two landscapes a case
    y = np.array([r[part][0] for r in rows])
    keep = list(range(X.shape[1]))
    while True:
        coef = np.zeros(X.shape[1])
        sol, *_ = np.linalg.lstsq(X[:, keep] / y[:, None], np.ones(len(y)), rcond=None)
        coef[keep] = sol
        if (sol >= 0).all():
            return coef
        keep = [k for k, v in zip(keep, sol) if v > 0]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench calibrate", description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="only the small-tensor examples")
    ap.add_argument("--fit", action="store_true", help="print the rates a least-squares fit suggests")
    ap.add_argument("--worst", type=int, default=3, help="cases to list at each end of every part")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for name, exp in cases(large=not args.small):
        try:
            m = measure(exp)
        except Exception as e:  # noqa: BLE001 - the report names what could not be measured
            print(f"  {name}: not measured: {type(e).__name__}: {e}", file=sys.stderr)
            continue
        rows.append({"name": name, **m})
        print(f"  {name}: " + ", ".join(f"{p} {m[p][0] / m[p][1]:.2f}" for p in PARTS), file=sys.stderr, flush=True)
    print("| part | cases | median measured/estimate | lowest / median | highest / median | most apart |")
    print("| --- | --- | --- | --- | --- | --- |")
    worst = 1.0
    for part in PARTS:
        ratios = [r[part][0] / r[part][1] for r in rows]
        med = statistics.median(ratios)
        lo, hi = min(ratios) / med, max(ratios) / med
        worst = max(worst, hi, 1 / lo)
        names = sorted(zip(ratios, (r["name"] for r in rows)))
        apart = ", ".join(f"{n} {x / med:.2f}" for x, n in names[:args.worst] + names[-args.worst:])
        print(f"| {part} | {len(rows)} | {med:.2f} | {lo:.2f} | {hi:.2f} | {apart} |")
    if args.fit:
        for part in PARTS[1:] + ("train",):
            print(part, "rates [fixed, op, element, flop, param] ns:", np.round(fit(rows, part), 3).tolist(),
                  {"train": "(then tensor, element of each optimizer's update)", "trace": "(then per node drawn per step)",
                   "landscape": "(per point; then per unbatched op, per row; per landscape, per epoch)"}.get(part, ""))
    print(f"\nEvery ratio is within {worst:.1f}x of its part's median "
          f"(torch {torch.__version__}, 1 thread, this thread's CPU time, best of 2).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
