"""The page's one source of truth: the experiment as typed and how it is viewed, in one object.

`Page` holds everything the page shows: the `Draft` (the fields as typed, valid or not), the example
they came from, and the `View` (epoch, step, tab, language, projection, ...; `explorer.share.View`,
which is also what the URL says). Widgets are drawn from it and write into it (`bind.py`), it is read
from the URL once and written back once per rerun (`session.py`). Plain Python, no Streamlit.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

from explorer import PRESETS, lessons
from explorer.experiment import Experiment
from explorer.share import View

DEFAULT_PRESET = "single_step"
NEW_ROW = "torch.zeros(2)"


@dataclass(frozen=True)
class Row:
    """One tensor field. `id` names its widgets, so a removed row takes its widgets' state with it."""
    id: int
    name: str
    text: str
    trainable: bool


@dataclass(frozen=True)
class Draft:
    """The experiment's fields exactly as typed, valid or not."""
    rows: tuple[Row, ...] = ()
    loss: str = ""
    lr: float | None = 0.01
    epochs: int | None = 1
    optimizer: str = "gd"
    zero_grad: bool = True
    seed: int | None = 0

    @classmethod
    def of(cls, exp: Experiment, first_id: int = 0) -> "Draft":
        """`exp` in fields; rows numbered from `first_id`. A number the URL got wrong shows as a default."""
        rows = tuple(Row(first_id + i, name, text, name in exp.trainable) for i, (name, text) in enumerate(exp.tensors))
        number = lambda v, kind, default: v if isinstance(v, kind) and not isinstance(v, bool) else default  # noqa: E731
        return cls(rows, exp.loss, float(number(exp.lr, (int, float), 0.01)), number(exp.epochs, int, 1),
                   exp.optimizer, bool(exp.zero_grad), number(exp.seed, int, 0))

    def experiment(self) -> Experiment:
        names = [r.name.strip() for r in self.rows]
        return Experiment(tensors=tuple((n, r.text) for n, r in zip(names, self.rows)),
                          trainable=tuple(n for n, r in zip(names, self.rows) if r.trainable), loss=self.loss,
                          lr=self.lr, epochs=self.epochs, optimizer=self.optimizer, zero_grad=self.zero_grad,
                          seed=self.seed)

    def row(self, rid: int) -> Row | None:
        return next((r for r in self.rows if r.id == rid), None)

    def edit_row(self, rid: int, **changes) -> "Draft":
        return replace(self, rows=tuple(replace(r, **changes) if r.id == rid else r for r in self.rows))

    def without_row(self, rid: int) -> "Draft":
        return replace(self, rows=tuple(r for r in self.rows if r.id != rid))

    def with_row(self, rid: int) -> "Draft":
        """A new data tensor `t1` (or `t2`, ...: the first name not taken) at the end."""
        taken = {r.name.strip() for r in self.rows}
        name = next(f"t{i}" for i in range(1, len(taken) + 2) if f"t{i}" not in taken)
        return replace(self, rows=(*self.rows, Row(rid, name, NEW_ROW, False)))


@dataclass(frozen=True)
class Answer:
    """How a question was answered: checked (right or wrong, with the judge's words) or revealed."""
    right: bool
    message: tuple = ("", "")       # (en, zh); empty when revealed without a guess
    revealed: bool = False


@dataclass
class Page:
    """Everything the page shows, and the little a session remembers besides."""
    draft: Draft
    preset: str | None                      # the example the fields came from (None: a custom experiment)
    view: View = View()
    next_id: int = 0                        # the next row's id: ids are never reused
    last_good: Experiment | None = None     # shown while the fields do not make a valid experiment
    steps_of: Experiment | None = None      # the experiment shown, whose step `view.step` is
    presses: tuple[str, int] = ("", 0)      # (scope, number) of the last ← / → press the server took
    narrow: bool = False                    # the browser's screen is a phone's
    answers: dict = field(default_factory=dict)    # (scope, step) -> Answer: this session's predictions
    reach: int | None = None                # predicting: the first step whose question waits (none beyond it)

    @classmethod
    def open(cls, exp: Experiment | None, preset: str | None, view: View) -> "Page":
        """The page a link opens: its experiment, or the default example; a lesson's link without an
        experiment opens its part's. A predict link opens at step 0, unless it names a step."""
        part = lessons.part(view.lesson, view.part) if view.lesson else None
        if part is not None:
            view = view.replace(predict=True)
            if exp is None:
                exp, preset = part.experiment, lessons.preset_of(part)
                view = view.replace(epoch=part.epoch, step=None)
        if exp is None:
            preset, exp = DEFAULT_PRESET, PRESETS[DEFAULT_PRESET]
        if view.predict and view.step is None:
            view = view.replace(step=0)
        draft = Draft.of(exp)
        return cls(draft, preset, view, next_id=len(draft.rows))

    def set(self, **changes) -> None:
        """Change view settings: `page.set(epoch=3)`."""
        self.view = replace(self.view, **changes)

    def fill(self, preset: str) -> None:
        """Every field from the example `preset`; rows get fresh ids, so no old widget state lingers."""
        self._load(PRESETS[preset], preset)

    def _load(self, exp: Experiment, preset: str | None) -> None:
        self.preset = preset
        self.draft = Draft.of(exp, self.next_id)
        self.next_id += len(self.draft.rows)

    def to_part(self, k: int) -> None:
        """Part k of the lesson shown: its experiment and epoch, at step 0, predicting, on the graph."""
        part = lessons.part(self.view.lesson, k)
        if part is None:
            return
        k = lessons.LESSONS[self.view.lesson].index(part) + 1
        self._load(part.experiment, lessons.preset_of(part))
        self.steps_of = None            # a new experiment or epoch: its step is the one set here
        self.set(part=k, epoch=part.epoch, step=0, predict=True, tab="graph")

    def add_row(self) -> None:
        self.draft = self.draft.with_row(self.next_id)
        self.next_id += 1

    def showing(self, exp: Experiment) -> None:
        """The page shows a run of `exp`: a new experiment starts at its last step (every gradient filled in)."""
        if exp != self.steps_of:
            if self.steps_of is not None:       # not on opening: a link's step is the step it shows
                self.set(step=0 if self.view.predict else None)      # predicting, nothing is told yet
            self.steps_of = exp

    def epoch(self, epochs: int) -> int:
        """The epoch shown, 1..epochs. Kept as asked, not clamped, in the view: the epoch of a run that
        fell back to a shorter one, or was shortened for a moment, comes back with the longer run."""
        return min(max(1, self.view.epoch), max(1, epochs))

    def step(self, last: int) -> int:
        """The backward step shown, 0..last (None in the view: the last), never past `reach`."""
        s = self.view.step
        s = last if s is None else min(last, max(0, s))
        return s if self.reach is None else min(s, self.reach)

    def go_to_step(self, step: int, last: int) -> None:
        """Show `step`; predicting, no further than the first question that waits (its answer would show)."""
        step = min(last if self.reach is None else min(last, self.reach), max(0, step))
        self.set(step=None if step == last else step)

    def answer(self, where: tuple) -> Answer | None:
        """How the question at `where` (scope, step) was answered; None while it waits."""
        return self.answers.get(where)

    def record(self, where: tuple, answer: Answer) -> None:
        """A question is answered once: its first check or reveal is what the score counts."""
        self.answers.setdefault(where, answer)

    def score(self) -> tuple[int, int]:
        """(right, asked) over this session's answered questions; a reveal counts as asked."""
        return sum(a.right for a in self.answers.values()), len(self.answers)



def scope(exp: Experiment, epoch: int) -> str:
    """What the browser's press counter counts for: one (experiment, epoch); it starts again with another."""
    return hashlib.sha1(repr((exp, epoch)).encode()).hexdigest()[:12]
