"""Every bound on what a user controls, in one place: the messages quote these numbers."""

MAX_TEXT = 2000            # characters in one field
MAX_DEPTH = 40             # nesting levels of an expression
MAX_LINES = 20             # statements in the loss
MAX_NODES = 400            # syntax nodes in one field
MAX_NAME = 16              # characters in a name
MAX_LITERAL = 1e9          # magnitude of a typed number
MAX_CONSTANT = 1e30        # magnitude of arithmetic on typed numbers alone
MAX_EXPONENT = 64          # magnitude of a number used as an exponent
MAX_ELEMENTS = 10_000      # elements in one input tensor
MAX_INTERMEDIATE = 100_000  # elements in any value the loss computes
MAX_DIMS = 4               # rank of any tensor
MAX_TENSORS = 8            # tensors in one experiment
MAX_EPOCHS = 10_000
MAX_HISTORY = 5_000_000   # numbers a run records: epochs x trainable elements x 2
LR_RANGE = (1e-6, 10.0)
MAX_SEED = 2**31 - 1
# Seconds of one dev-box core each part of one page view may cost, as budget.py estimates it before it
# runs: the slowest page view a link can ask for (every tab) stays within ~10 CPU-seconds.
SHARES = {"train": 2.7,        # the run: its epochs
          "trace": 0.5,        # one epoch's graph, traced and explained (an epoch over this is refused)
          "check": 0.3,        # the gradient check of one epoch: fewer elements where it would not fit
          "landscape": 0.3,    # one landscape: a coarser grid where it would not fit
          "race": 1.5}         # the other optimizers' runs at both learning rates: fewer racers
MAX_EPOCH_MB = 64          # MB one epoch may hold: values autograd saves, gradients, what ops allocate inside
WALL_LIMIT = 60.0          # seconds from asking to answer, queue included: past it the request fails, nothing is kept
LIGHT_TASK = 0.01          # seconds (estimated): a task this quick runs in the page's own thread
HEAVY_TASK = 0.5           # seconds (estimated): a task this long never takes the last free worker
RUN_LIMIT = 20.0           # seconds one task may run (its estimate is at most a few): past it, it is stopped
MAX_WORKER_MB = 1500       # resident MB of a worker process (about 300 idle): past it, its task is stopped
MAX_DRAWN_NODES = 150      # graph nodes drawn before the rest are summarised
