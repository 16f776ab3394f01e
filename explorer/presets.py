"""Ready-made experiments: the course's three examples first, then classic lessons.

`detach_target` and `no_detach_target` differ only by `.detach()`, so switching between them shows
the graph lose the target's branch and the gradient change from 8w to -4w.
"""
from .experiment import Experiment

SEED_W = ("[[0.5068, 0.7041, -0.3873], [0.2316, -0.6001, -2.0265], [0.7206, -0.3271, -1.6952], "
          "[0.0378, 0.3277, -0.1473], [-0.9443, -0.8589, 0.6169]]")
SEED_B = "[-0.0277, 0.5842, -0.5767]"

PRESETS: dict[str, Experiment] = {
    "single_step": Experiment(
        tensors={"w": "torch.tensor([10, 20], requires_grad=True, dtype=torch.float)"},
        trainable=("w",), loss="loss = 2 * w ** 2", lr=0.01, epochs=1),
    "multi_epoch": Experiment(
        tensors={"w": "torch.tensor(10, requires_grad=True, dtype=torch.float)"},
        trainable=("w",), loss="loss = w ** 2 + 20", lr=0.01, epochs=500),
    "linear_layer": Experiment(
        tensors={"x": "torch.ones(2, 5)", "y": "torch.zeros(2, 3)", "w": SEED_W, "b": SEED_B},
        trainable=("w", "b"),
        loss="z = x.matmul(w) + b\nloss = torch.nn.MSELoss()(z, y)", lr=0.01, epochs=1),
    "detach_target": Experiment(
        tensors={"w": "torch.tensor([1., 2.])"}, trainable=("w",),
        loss="target = (3 * w).detach()\nloss = ((w - target) ** 2).sum()", lr=0.01, epochs=20),
    "no_detach_target": Experiment(
        tensors={"w": "torch.tensor([1., 2.])"}, trainable=("w",),
        loss="target = 3 * w\nloss = ((w - target) ** 2).sum()", lr=0.01, epochs=20),
    "logistic_regression": Experiment(
        tensors={"x": "[[0.5, 1.0], [1.0, 2.5], [3.0, 0.5], [2.5, 3.0], [-1.0, -0.5], [-2.0, 1.0]]",
                 "y": "[[0.0], [1.0], [0.0], [1.0], [0.0], [0.0]]",
                 "w": "torch.zeros(2, 1)", "b": "torch.zeros(1)"},
        trainable=("w", "b"),
        loss="p = torch.sigmoid(x @ w + b)\nloss = F.binary_cross_entropy(p, y)", lr=0.5, epochs=200),
    "mlp": Experiment(
        tensors={"x": "[[0, 0], [0, 1], [1, 0], [1, 1]]", "y": "[[0], [1], [1], [0]]",
                 "W1": "torch.randn(2, 4)", "b1": "torch.zeros(4)",
                 "W2": "torch.randn(4, 1)", "b2": "torch.zeros(1)"},
        trainable=("W1", "b1", "W2", "b2"),
        loss="h = torch.tanh(x @ W1 + b1)\nout = h @ W2 + b2\nloss = F.mse_loss(out, y)",
        lr=0.05, epochs=300, optimizer="adam", seed=0),
    "forgot_zero_grad": Experiment(
        tensors={"w": "torch.tensor(10, requires_grad=True, dtype=torch.float)"},
        trainable=("w",), loss="loss = w ** 2 + 20", lr=0.01, epochs=30, zero_grad=False),
    "lr_too_large": Experiment(
        tensors={"w": "torch.tensor(10, requires_grad=True, dtype=torch.float)"},
        trainable=("w",), loss="loss = w ** 2 + 20", lr=1.5, epochs=200),
}
