"""Walk a loss's `grad_fn` chain into plain data, then run backward once to fill in the gradients.

The walk is iterative (deep graphs do not hit Python's recursion limit), visits every autograd
node once, and reads saved tensors *before* backward frees them. Backward then runs with node
hooks, recording the gradient each node receives, what it sends along each edge, and the order
in which autograd ran the nodes.
"""
from __future__ import annotations

import gc
import re
from dataclasses import dataclass, field
from typing import NamedTuple

import torch

_NOISE = re.compile(r"size|stride|options|layout|device|dtype|indices$|_numel|storage")

KINDS = ("output", "op", "leaf", "data", "saved")
KEEP_NUMEL = 4096      # tensors up to this size are kept whole in a traced graph; bigger ones as a Preview
PREVIEW_NUMEL = 64
PREVIEW_TOP = 3        # largest-magnitude entries a Preview keeps, with their indices


@dataclass(frozen=True, slots=True)
class Preview:
    """What a traced graph keeps of a big tensor: its shape, a summary and its first values.

    A graph of 100,000-element values then costs kilobytes, not the megabytes of every value and
    gradient, and a server can cache many of them. The summary (min, max, mean, how many zeros, the
    few largest-magnitude entries with their indices) is what labels and explanations show: the
    first values alone are often a row of zeros that tells a student nothing.
    """
    shape: tuple[int, ...]
    head: torch.Tensor
    lo: float | None = None
    hi: float | None = None
    mean: float | None = None
    zeros: int | None = None
    top: tuple = ()                # ((index, value), ...): the largest |values|, largest first

    @classmethod
    def of(cls, t: torch.Tensor) -> "Preview":
        flat = t.detach().reshape(-1)
        x = flat if flat.is_floating_point() else flat.double()
        k = min(PREVIEW_TOP, x.numel())
        size = x.abs().nan_to_num(nan=float("inf"))
        where = []
        for _ in range(k):             # argmax k times: linear, and ties go to the first index
            i = int(size.argmax())
            if not size[i] > 0:
                break
            where.append(i)
            size[i] = -1.0
        shape = tuple(t.shape)
        top = tuple((unravel(i, shape), x[i].item()) for i in where)
        return cls(shape, flat[:PREVIEW_NUMEL].clone(), x.min().item(), x.max().item(), x.mean().item(),
                   int((x == 0).sum()), top)

    def numel(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    def dim(self) -> int:
        return len(self.shape)

    def __add__(self, other) -> "Preview":
        """Two previews' first values added; the summary of a sum cannot be known from two summaries."""
        return Preview(self.shape, self.head + (other.head if isinstance(other, Preview) else other))


def unravel(i: int, shape: tuple) -> tuple:
    """Flat index i of a tensor of `shape` as its index per dimension."""
    out = []
    for s in reversed(shape):
        out.append(i % s)
        i //= s
    return tuple(reversed(out))


def kept(t):
    """`t` itself if small, else its Preview: what a traced graph holds on to."""
    return Preview.of(t) if isinstance(t, torch.Tensor) and t.numel() > KEEP_NUMEL else t


@dataclass(slots=True, eq=False)
class Node:
    id: str
    kind: str                      # one of KINDS
    label: str                     # op class name, or a tensor's name
    shape: tuple[int, ...] | None
    value: torch.Tensor | Preview | None   # forward value (None where autograd kept none)
    grad: torch.Tensor | Preview | None    # d loss / d value: for a leaf, its .grad after backward
    order: int | None = None       # backward step that ran this node (output: 0)
    op: str = ""                   # grad_fn class name; "AccumulateGrad" for leaves
    name: str = ""                 # the student's name for this value ("z"), if any
    attrs: tuple[tuple[str, str], ...] = ()   # saved non-tensor arguments, e.g. exponent=2
    change: tuple = ()             # an in-place change autograd recorded as this node: (code, name, before, after)


@dataclass(slots=True, eq=False)
class Edge:
    src: str                       # forward direction: the input ...
    dst: str                       # ... and the node that consumed it
    grad: torch.Tensor | Preview | None = None   # the gradient backward sent from dst to src
    kind: str = "flow"             # "flow" (autograd edge) or "saved" (tensor kept for backward)
    label: str = ""                # for saved edges: the argument it was saved as ("self", "target")


@dataclass(slots=True, eq=False)
class Graph:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    _index: dict | None = field(default=None, repr=False)

    @property
    def index(self) -> dict:
        if self._index is None:
            self._index = {n.id: n for n in self.nodes}
        return self._index

    @property
    def steps(self) -> int:
        """How many backward steps there are to walk through."""
        return max((n.order or 0 for n in self.nodes), default=0)

    def node(self, id_or_label: str) -> Node:
        """A node by id, else the first whose label or name matches (handy in tests and notebooks)."""
        if id_or_label in self.index:
            return self.index[id_or_label]
        for n in self.nodes:
            if id_or_label in (n.label, n.name):
                return n
        raise KeyError(id_or_label)

    def step(self, k: int) -> Node | None:
        """The node that backward ran at step k."""
        return next((n for n in self.nodes if n.order == k), None)

    def inputs(self, node_id: str, kind: str = "flow") -> list[Edge]:
        return [e for e in self.edges if e.dst == node_id and e.kind == kind]

    def consumers(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.src == node_id and e.kind == "flow"]


_saved_attrs_cache: dict[type, tuple[tuple[str, str], ...]] = {}


def saved_attrs(fn) -> tuple[tuple[str, str], ...]:
    """(attribute, argument) pairs of what this kind of node saves, without sizes and strides."""
    cls = type(fn)
    found = _saved_attrs_cache.get(cls)
    if found is None:
        found = _saved_attrs_cache[cls] = tuple(
            (a, a[7:]) for a in dir(cls) if a.startswith("_saved_") and not _NOISE.search(a[7:]))
    return found


def _storage_key(t: torch.Tensor):
    """Identity of a tensor's contents without id(): same memory, same view."""
    return (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), t.stride(), t.dtype)


def _snap(t):
    return t.detach().clone() if isinstance(t, torch.Tensor) else None


_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _show_attr(v) -> str:
    if isinstance(v, int) and v >= 2 ** 63:           # an int64 read back unsigned (ignore_index=-100)
        return str(v - 2 ** 64)
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(_show_attr(x) for x in v) + ")"
    return str(v)


def trace_backward(loss: torch.Tensor, tensors: dict[str, torch.Tensor] | None = None,
                   values: dict | list | None = None, loss_name: str = "loss") -> Graph:
    """Trace `loss`'s backward graph, run `loss.backward()` once, and return it as plain data.

    `tensors` names the leaves and data tensors (`{"w": w, "x": x}`); `values` gives forward
    values of intermediate results - a dict `{name: tensor}` names them too; a list may mix
    tensors and `(name, tensor)` pairs. Leaves' `.grad` accumulates exactly as after a plain
    `loss.backward()`. Leaf values are copied; other values share memory with the tensors given.
    """
    if not isinstance(loss, torch.Tensor) or not loss.requires_grad:
        raise ValueError("trace_backward needs a tensor that requires grad")
    if loss.grad_fn is None:
        return _trace_leaf(loss, tensors or {}, loss_name)
    collecting = gc.isenabled()
    gc.disable()                  # thousands of small objects and no cycles: collections only cost time
    try:
        return _trace(loss, tensors or {}, values, loss_name)
    finally:
        if collecting:
            gc.enable()


def _trace_leaf(loss, tensors, loss_name) -> Graph:
    """`loss = w`: backward has only AccumulateGrad to run, which adds d loss/d w = 1 to `w.grad`."""
    name = next((n for n, t in tensors.items() if t is loss), "leaf")
    seed = torch.ones_like(loss)
    leaf = Node("n1", "leaf", name, tuple(loss.shape), _snap(loss), None, 1, op="AccumulateGrad")
    out = Node("n0", "output", loss_name, tuple(loss.shape), _snap(loss), seed, 0)
    loss.backward(seed)
    leaf.grad = _snap(loss.grad)
    return Graph(nodes=(out, leaf), edges=(Edge("n1", "n0", seed),))


def _trace(loss, tensors, values, loss_name) -> Graph:
    leaf_names = {id(t): n for n, t in tensors.items()}
    named = list(values.items() if isinstance(values, dict) else
                 (v if isinstance(v, tuple) and not isinstance(v, _RECORDS) else ("", v) for v in (values or ())))
    cuts = [c for _, c in named if isinstance(c, Cut)]
    changes = {c.fn: c for _, c in named if isinstance(c, Change)}
    produced = {}          # (grad_fn, output_nr) -> (name, tensor)
    value_names = {}       # storage key -> name, for named intermediates seen again as saved tensors
    for name, t in named:
        if isinstance(t, Value) and t.fn is not None:
            key = (t.fn, t.nr)
            if t.name or key not in produced:
                produced[key] = (t.name, t.tensor if t.shown is None else t.shown)
            if t.name:
                value_names.setdefault(_storage_key(t.tensor), t.name)
        elif isinstance(t, torch.Tensor) and t.grad_fn is not None:
            key = (t.grad_fn, t.output_nr)
            if name or key not in produced:
                produced[key] = (name, t)
            if name:
                value_names.setdefault(_storage_key(t), name)
    data_keys = None       # storage key -> name of a given tensor; built only if a saved tensor needs it

    out = Node("n0", "output", loss_name, tuple(loss.shape), loss.detach(), torch.ones_like(loss), 0)
    nodes = [out]
    edges = [Edge("n1", "n0", out.grad)]
    slots = []             # (edge, fn, i): edge gets the i-th gradient fn sends
    fn_nodes: dict = {}    # autograd Node -> our Node
    leaf_ids = {}          # id(leaf tensor) -> our leaf Node
    leaves = []            # (AccumulateGrad, our Node)
    ops = []

    def visit(fn) -> Node:
        node = fn_nodes.get(fn)
        if node is None:
            op = type(fn).__name__
            nid = f"n{len(nodes)}"
            if op == "AccumulateGrad":
                var = fn.variable
                node = Node(nid, "leaf", leaf_names.get(id(var), "leaf"), tuple(var.shape), _snap(var), None, op=op)
                leaf_ids[id(var)] = node
                leaves.append((fn, node))
            else:
                name, t = produced.get((fn, 0), _NOTHING) if produced else _NOTHING
                node = Node(nid, "op", op, None if t is None else tuple(t.shape),
                            None if t is None else t.detach(), None, op=op, name=name)
                ops.append(fn)
            fn_nodes[fn] = node
            nodes.append(node)
        return node

    visit(loss.grad_fn)
    i = 0
    while i < len(ops):            # ops grows as the walk finds new nodes: breadth first, no recursion
        fn = ops[i]
        i += 1
        dst = fn_nodes[fn].id
        for slot, (nxt, _nr) in enumerate(fn.next_functions):
            if nxt is not None:
                e = Edge(visit(nxt).id, dst)
                edges.append(e)
                slots.append((e, fn, slot))

    saved_nodes: dict = {}     # storage key -> Node
    for fn in ops:
        node = fn_nodes[fn]
        attrs = []
        for attr, arg in saved_attrs(fn):
            try:
                v = getattr(fn, attr)
            except RuntimeError:          # already freed by an earlier backward
                continue
            if not isinstance(v, torch.Tensor):
                if v is not None:
                    attrs.append((arg, _REDUCTIONS.get(v, str(v)) if arg == "reduction" else _show_attr(v)))
                continue
            if arg == "result":           # the op's own output, kept for its derivative
                if node.value is None:
                    node.value, node.shape = v.detach(), tuple(v.shape)
                continue
            src = None
            if v.grad_fn is not None:
                src = fn_nodes.get(v.grad_fn)
                if src is not None and src.value is None:
                    src.value, src.shape = v.detach(), tuple(v.shape)
            elif v.requires_grad:
                src = leaf_ids.get(id(v))
            if src is None:
                key = _storage_key(v)
                src = saved_nodes.get(key)
                if src is None:
                    if data_keys is None:
                        data_keys = {_storage_key(t): n for n, t in tensors.items()}
                        data_keys.update(value_names)
                        data_keys.update({_storage_key(c.detached): c.source for c in cuts})
                    name = data_keys.get(key, "")
                    if not name and v.dim() == 0 and v.grad_fn is None:
                        attrs.append((arg, _show_attr(v.item())))   # a number the student typed: the 2 in 2 * w
                        continue
                    src = saved_nodes[key] = Node(f"n{len(nodes)}", "data" if name else "saved", name or arg,
                                                  tuple(v.shape), v.detach(), None, name=name)
                    nodes.append(src)
            edges.append(Edge(src.id, node.id, None, "saved", arg))
        change = changes.get(fn)
        if change is not None:                    # autograd's record of an in-place change: y += 1
            node.change = change[1:]
            attrs.append(("in_place", f"{change.code} (version {change.before} → {change.after})"))
        node.attrs = tuple(attrs)
    for c in cuts:                 # where a detached value was used: no gradient flows back along this edge
        node = fn_nodes.get(c.value.grad_fn)
        if node is None:
            continue
        key = _storage_key(c.detached)
        src = saved_nodes.get(key)
        if src is None:
            src = saved_nodes[key] = Node(f"n{len(nodes)}", "data", c.source, tuple(c.detached.shape),
                                          c.detached.detach(), None, name=c.source)
            nodes.append(src)
        edges.append(Edge(src.id, node.id, None, "saved", "detached"))

    log: list = []         # (fn, grads it sent, grads it received), in the order autograd ran them
    for fn in ops:                                # op nodes die with this graph: no need to unhook
        fn.register_hook(lambda sent, received, fn=fn: log.append((fn, sent, received)))
    leaf_hooks = [fn.register_hook(lambda sent, received, fn=fn: log.append((fn, sent, received)))
                  for fn, _ in leaves]
    try:
        loss.backward(torch.ones_like(loss))
    finally:
        for h in leaf_hooks:                      # leaves outlive this graph: unhook them
            h.remove()
    sent = {}
    for step, (fn, grads_sent, received) in enumerate(log, 1):
        node = fn_nodes[fn]
        node.order = step
        node.grad = received[0] if received and received[0] is not None else \
            next((g for g in received if g is not None), None)
        sent[fn] = grads_sent
    for fn, node in leaves:
        node.grad = _snap(fn.variable.grad)          # .grad changes with every later backward or step
    for fn in ops:
        node = fn_nodes[fn]
        if node.shape is None and node.grad is not None:
            node.shape = tuple(node.grad.shape)
    # Gradients that flowed are ours to keep: while `log` held them autograd could not adopt one
    # as a leaf's .grad or add into it in place, so they need no copy.
    for e, fn, slot in slots:
        e.grad = kept(sent[fn][slot]) if fn in sent else None
    for e in edges[:1]:
        e.grad = kept(e.grad)
    for node in nodes:
        node.value, node.grad = kept(node.value), kept(node.grad)
    return Graph(nodes=tuple(nodes), edges=tuple(edges))


_NOTHING = ("", None)


class Value(NamedTuple):
    """A value the loss computed, as autograd's node `fn` made it (output `nr`), with the name of its line
    and its numbers then (`shown`: a copy, where a later line changes the tensor in place)."""
    fn: object
    nr: int
    name: str
    tensor: torch.Tensor
    shown: torch.Tensor | None = None


class Change(NamedTuple):
    """An in-place change (`y += 1`): the node autograd recorded for it, the line, the tensor's name, and
    its version counter before and after."""
    fn: object
    code: str
    name: str
    before: int
    after: int


class Cut(NamedTuple):
    """A value computed from a detached input: `value = f(..., detached, ...)`. The graph draws the
    detached input as a constant beside the op, since autograd has no edge for it."""
    value: torch.Tensor
    detached: torch.Tensor
    source: str                    # "w.detach()"


_RECORDS = (Value, Change, Cut)
