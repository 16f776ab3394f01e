"""Walk a loss's `grad_fn` chain into plain data, then run backward once to fill in the gradients.

The walk is iterative (deep graphs do not hit Python's recursion limit), visits every autograd
node once, and reads saved tensors *before* backward frees them. Backward then runs with node
hooks, recording the gradient each node receives, what it sends along each edge, and the order
in which autograd ran the nodes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch

KINDS = ("output", "op", "leaf", "data", "saved")


@dataclass(frozen=True, eq=False)
class Node:
    id: str
    kind: str                      # one of KINDS
    label: str                     # op class name, or a tensor's name
    shape: tuple[int, ...] | None
    value: torch.Tensor | None     # forward value (None where autograd kept none)
    grad: torch.Tensor | None      # d loss / d value: for a leaf, its .grad after backward
    order: int | None = None       # backward step that ran this node (output: 0)
    op: str = ""                   # grad_fn class name; "AccumulateGrad" for leaves
    name: str = ""                 # the student's name for this value ("z"), if any
    attrs: tuple[tuple[str, str], ...] = ()   # saved non-tensor arguments, e.g. exponent=2


@dataclass(frozen=True, eq=False)
class Edge:
    src: str                       # forward direction: the input ...
    dst: str                       # ... and the node that consumed it
    grad: torch.Tensor | None = None   # the gradient backward sent from dst to src
    kind: str = "flow"             # "flow" (autograd edge) or "saved" (tensor kept for backward)
    label: str = ""                # for saved edges: the argument it was saved as ("self", "target")


@dataclass(frozen=True, eq=False)
class Graph:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    _index: dict = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_index", {n.id: n for n in self.nodes})

    @property
    def steps(self) -> int:
        """How many backward steps there are to walk through."""
        return max((n.order or 0 for n in self.nodes), default=0)

    def node(self, id_or_label: str) -> Node:
        """A node by id, else the first whose label or name matches (handy in tests and notebooks)."""
        if id_or_label in self._index:
            return self._index[id_or_label]
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


_saved_attrs_cache: dict[type, tuple[str, ...]] = {}


def _saved_attrs(fn) -> tuple[str, ...]:
    cls = type(fn)
    if cls not in _saved_attrs_cache:
        _saved_attrs_cache[cls] = tuple(a for a in dir(cls) if a.startswith("_saved_"))
    return _saved_attrs_cache[cls]


def _op_name(fn) -> str:
    return type(fn).__name__


def _storage_key(t: torch.Tensor):
    """Identity of a tensor's contents without id(): same memory, same view, same version."""
    return (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), t.stride(), t.dtype)


def _snap(t):
    return t.detach().clone() if isinstance(t, torch.Tensor) else None


_NOISE = re.compile(r"size|stride|options|layout|device|dtype|indices$|_numel|storage")
_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _show_attr(v) -> str:
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
    tensors and `(name, tensor)` pairs. Leaves' `.grad` accumulates exactly as after a plain `loss.backward()`.
    """
    if not isinstance(loss, torch.Tensor) or loss.grad_fn is None:
        raise ValueError("trace_backward needs a tensor that requires grad (it has no grad_fn)")
    tensors = tensors or {}
    leaf_names = {id(t): n for n, t in tensors.items()}
    data_keys = {_storage_key(t): n for n, t in tensors.items()}
    named = values.items() if isinstance(values, dict) else \
        (v if isinstance(v, tuple) else ("", v) for v in (values or ()))
    produced = {}          # (grad_fn, output_nr) -> (name, tensor)
    for name, t in named:
        if isinstance(t, torch.Tensor) and t.grad_fn is not None:
            key = (t.grad_fn, t.output_nr)
            if name or key not in produced:
                produced[key] = (name, t)
            if name:
                data_keys.setdefault(_storage_key(t), name)

    nodes: dict[str, dict] = {}
    edges: list[dict] = []
    fn_ids: dict = {}      # autograd Node -> our id
    saved_ids: dict = {}   # storage key -> our id

    def new_id():
        return f"n{len(nodes)}"

    out_id = new_id()
    nodes[out_id] = dict(id=out_id, kind="output", label=loss_name, shape=tuple(loss.shape),
                         value=_snap(loss), grad=torch.ones_like(loss).detach(), order=0)
    root = loss.grad_fn

    def visit(fn) -> str:
        if fn in fn_ids:
            return fn_ids[fn]
        nid = new_id()
        fn_ids[fn] = nid
        if _op_name(fn) == "AccumulateGrad":
            var = fn.variable
            nodes[nid] = dict(id=nid, kind="leaf", label=leaf_names.get(id(var), "leaf"), op="AccumulateGrad",
                              shape=tuple(var.shape), value=_snap(var), grad=None)
        else:
            name, t = produced.get((fn, 0), ("", None))
            nodes[nid] = dict(id=nid, kind="op", label=_op_name(fn), op=_op_name(fn), name=name,
                              shape=tuple(t.shape) if t is not None else None, value=_snap(t), grad=None)
            stack.append(fn)
        return nid

    def _read_saved(fn, fid):
        """Saved tensors become nodes (once each) or links to nodes already drawn; the rest are attrs."""
        for attr in _saved_attrs(fn):
            try:
                v = getattr(fn, attr)
            except RuntimeError:          # already freed by an earlier backward
                continue
            arg = attr[len("_saved_"):]
            if not isinstance(v, torch.Tensor):
                if v is not None and not _NOISE.search(arg):
                    yield arg, _REDUCTIONS.get(v, str(v)) if arg == "reduction" else _show_attr(v)
                continue
            if v.dim() == 0 and v.grad_fn is None and not v.requires_grad and _storage_key(v) not in data_keys:
                yield arg, _show_attr(v.item())   # a Python number the student typed, e.g. the 2 in 2 * w
                continue
            if arg == "result":           # the op's own output, kept for its derivative
                if nodes[fid]["value"] is None:
                    nodes[fid]["value"], nodes[fid]["shape"] = _snap(v), tuple(v.shape)
                continue
            sid = leaf_ids.get(id(v)) if v.grad_fn is None else fn_ids.get(v.grad_fn)
            if sid is not None and nodes[sid]["kind"] == "op" and nodes[sid]["value"] is None:
                nodes[sid]["value"], nodes[sid]["shape"] = _snap(v), tuple(v.shape)
            if sid is None:
                key = _storage_key(v)
                sid = saved_ids.get(key)
                if sid is None:
                    sid = saved_ids[key] = new_id()
                    name = data_keys.get(key, "")
                    nodes[sid] = dict(id=sid, kind="data" if name else "saved", label=name or arg, name=name,
                                      shape=tuple(v.shape), value=_snap(v), grad=None)
            edges.append(dict(src=sid, dst=fid, kind="saved", label=arg))

    stack: list = []
    root_id = visit(root)
    edges.append(dict(src=root_id, dst=out_id, slot=("root",)))
    while stack:
        fn = stack.pop()
        for slot, (nxt, _nr) in enumerate(fn.next_functions):
            if nxt is not None:
                edges.append(dict(src=visit(nxt), dst=fn_ids[fn], slot=(fn, slot)))

    leaf_ids = {id(fn.variable): nid for fn, nid in fn_ids.items() if nodes[nid]["kind"] == "leaf"}
    for fn, fid in list(fn_ids.items()):
        if nodes[fid]["kind"] == "op":
            nodes[fid]["attrs"] = tuple(_read_saved(fn, fid))

    sent: dict = {}        # (fn, slot) -> grad sent along that edge
    order = iter(range(1, len(fn_ids) + 1))
    handles = []

    def watch(fn, nid):
        def pre(grad_outputs):
            nodes[nid]["order"] = next(order)
            g = next((x for x in grad_outputs if x is not None), None)
            nodes[nid]["received"] = _snap(g)

        def post(grad_inputs, grad_outputs):
            for slot, g in enumerate(grad_inputs):
                sent[(fn, slot)] = _snap(g)
        handles.append(fn.register_prehook(pre))
        if nodes[nid]["kind"] == "op":
            handles.append(fn.register_hook(post))

    for fn, nid in fn_ids.items():
        watch(fn, nid)
    try:
        loss.backward(torch.ones_like(loss))
    finally:
        for h in handles:
            h.remove()

    for fn, nid in fn_ids.items():
        n = nodes[nid]
        if n["kind"] == "leaf":
            n["grad"] = _snap(fn.variable.grad)
        else:
            n["grad"] = n.get("received")
            if n["shape"] is None and n["grad"] is not None:
                n["shape"] = tuple(n["grad"].shape)
    for e in edges:
        slot = e.pop("slot", None)
        if slot == ("root",):
            e["grad"] = nodes[out_id]["grad"]
        elif slot is not None:
            e["grad"] = sent.get(slot)
    for n in nodes.values():
        n.pop("received", None)
    return Graph(nodes=tuple(Node(**n) for n in nodes.values()), edges=tuple(Edge(**e) for e in edges))
