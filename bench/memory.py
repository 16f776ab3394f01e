"""`python -m bench memory`: the peak memory of one request, for the largest requests the bounds allow.

Each case runs in a fresh process: after importing everything and serving one small request (the
idle app), it does all a page does for the case (train, trace the graph, draw it, build the three
curves, the log and its CSV) and reports how far the peak resident memory rose above idle. The
target is 512 MB per request; the bounds in explorer/limits.py are what keep it there.
"""
from __future__ import annotations

import json
import subprocess
import sys

from explorer import limits as L

CASES = {
    "course: multi_epoch (500 epochs)": dict(
        tensors={"w": "torch.tensor(10.)"}, trainable=["w"], loss="loss = w ** 2 + 20", epochs=500),
    "largest history (10,000 weights x 250 epochs)": dict(
        tensors={"w": "torch.randn(100, 100)"}, trainable=["w"], loss="loss = (w * w).mean()", epochs=250),
    "largest epoch (100,000-element values on 18 lines)": dict(
        tensors={"w": "torch.randn(100, 100)", "x": "torch.randn(1, 1000)"}, trainable=["w"],
        loss="\n".join(["a0 = x.reshape(1, 1, 1000) * w[:, 0:1].reshape(1, 100, 1)"]
                       + [f"a{i} = torch.tanh(a{i - 1} * 1.01)" for i in range(1, 18)]
                       + ["loss = a17.mean()"]), epochs=20),
    "largest run by work (mlp preset, most epochs that fit)": "mlp",
    "rejected: matmul broadcasting 0.8 GB inside": dict(
        tensors={"w": "torch.ones(316)", "v": "torch.ones(316)"}, trainable=["w"],
        loss="a = w.reshape(316,1,1,1) * v.reshape(1,1,1,316)\nb = w.reshape(1,316,1,1) * v.reshape(1,1,316,1)\n"
             "loss = (a @ b).sum()"),
}

CHILD = r"""
import json, resource, sys
import explorer
from explorer import Experiment, ExplorerError, PRESETS, budget, render, limits as L
from explorer.experiment import plan
from explorer import compute

def page(exp):
    run = explorer.run(exp)
    g = run.trace(len(run.history))
    render.to_dot(g, g.steps)
    for which in ("loss", "params", "grads"):
        render.curve_json(run.history, which)
    compute.log_table(run, "en", 0, compute.log_limits(run)[0])
    compute.log_csv(run, "en")
    return run

page(PRESETS["single_step"])
idle = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
spec = json.loads(sys.argv[1])
if spec == "mlp":
    exp = PRESETS["mlp"]
    exp = exp.replace(epochs=min(L.MAX_EPOCHS, budget.epochs_that_fit(plan(exp).cost, exp.optimizer)))
else:
    spec["tensors"] = tuple(spec["tensors"].items())
    exp = Experiment(**spec)
try:
    page(exp)
    outcome = f"{exp.epochs} epochs"
except ExplorerError as e:
    outcome = "refused: " + e.code
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"idle": idle / 1024, "above": (peak - idle) / 1024, "outcome": outcome}))
"""


def main(argv=None) -> int:
    print("| request | outcome | idle RSS | peak above idle |")
    print("| --- | --- | --- | --- |")
    worst = 0.0
    for name, spec in CASES.items():
        out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec)], capture_output=True, text=True,
                             env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}, check=False)
        if out.returncode:
            print(f"| {name} | failed: {out.stderr.strip().splitlines()[-1][:80]} | - | - |")
            worst = float("inf")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        worst = max(worst, r["above"])
        print(f"| {name} | {r['outcome']} | {r['idle']:.0f} MB | {r['above']:.0f} MB |")
    print(f"\nfresh process per request; peak = ru_maxrss. Target: at most 512 MB above idle "
          f"(limits: {L.MAX_EPOCH_MB} MB per epoch, {L.MAX_HISTORY:,} recorded numbers, {L.SHARES['train']:g} s of training).")
    return 0 if worst <= 512 else 1


if __name__ == "__main__":
    sys.exit(main())
