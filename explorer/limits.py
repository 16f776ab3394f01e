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
TIME_BUDGET = 10.0         # seconds of training per run; the epochs done are kept
MAX_DRAWN_NODES = 150      # graph nodes drawn before the rest are summarised
