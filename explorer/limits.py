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
MAX_WORK = 1_000_000_000   # element-operations one run may do (dry-run estimate x epochs), decided before it starts
OP_COST = 2_000            # element-operations charged per op call: the fixed cost of a tiny op
MAX_EPOCH_MB = 64          # MB one epoch may hold: values autograd saves, gradients, what ops allocate inside
WALL_LIMIT = 60.0          # seconds: a last resort on an overloaded server; the request fails, nothing is kept
MAX_CHECK_WORK = MAX_WORK   # element-operations of one gradient check (two float64 forward passes per element)
MAX_DRAWN_NODES = 150      # graph nodes drawn before the rest are summarised
