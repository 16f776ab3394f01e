"""Predict, then reveal: questions from the run itself, guesses judged against float32 with a diagnosis,
lessons as one table, and a graph that keeps the answer back until it is given."""
import pytest
import torch

import explorer
from explorer import PRESETS, ExplorerError, compute, lessons, predict
from explorer.numbers import float32
from explorer.predict import judge
from explorer.explain import explain_step
from explorer.render import focused, to_dot, to_map


def course_questions(key="single_step", epoch=1):
    run = explorer.run(PRESETS[key])
    return run, predict.questions(run.trace(epoch), run, epoch)


def test_every_step_of_the_course_example_asks_and_its_answers_are_the_runs():
    run, qs = course_questions()
    assert [(k, q.kind, q.to) for k, q in qs.items()] == [(1, "grad", "loss"), (2, "grad", "PowBackward0"),
                                                          (3, "grad", "w"), (4, "update", "w")]
    assert qs[3].value.tolist() == [40.0, 80.0]                       # the course's printed w.grad
    assert qs[4].value.tolist() == run.history[0].next_params["w"].tolist()
    assert qs[3].prompt() == "What gradient does `PowBackward0` send to `w`? Shape (2,)."
    assert qs[2].prompt() == "What gradient does `MulBackward0` send to the output of `PowBackward0`? Shape (2,)."
    assert qs[4].prompt("zh").startswith("这一步之后 `w` 是多少？")


@pytest.mark.parametrize("guess, right, why", [
    ("[40, 80]", True, ""), ("[40.01, 80.02]", True, ""), ("torch.tensor([40., 80.])", True, ""),
    ("[40.1, 80]", False, "wrong"),
    ("[-40, -80]", False, "sign"), ("[2, 2]", False, "arriving"), ("[20, 40]", False, "local"),
    ("[4, 4]", False, "constant"), ("[80, 160]", False, "scale"), ("[40, 80, 0]", False, "shape"), ("40", False, "shape"),
])
def test_a_guess_is_judged_against_float32_and_a_wrong_one_says_where_it_went_wrong(guess, right, why):
    _, qs = course_questions()
    v = predict.judge(qs[3], guess)
    assert (v.right, v.why) == (right, why)
    assert v.text("en") and v.text("zh") and ("40" in v.text("en") if not right and why != "shape" else True)


def test_the_papers_example_multiplied_by_2_instead_of_2w():
    _, qs = course_questions()
    v = predict.judge(qs[3], "[4, 4]")
    assert "multiplied the arriving gradient by 2" in v.text("en") and "n·xⁿ⁻¹" in v.text("en")
    assert "乘以了 2" in v.text("zh")


def test_the_update_question_and_its_diagnoses():
    _, qs = course_questions()
    q = qs[4]
    assert predict.judge(q, "[9.6, 19.2]").right
    assert predict.judge(q, "[40, 80]").why == "update_grad"
    assert predict.judge(q, "[10.4, 20.8]").why == "update_sign"


def test_a_big_answer_is_asked_one_element_the_one_the_explanation_works_out():
    run, qs = course_questions("linear_layer")
    w = next(q for q in qs.values() if q.kind == "grad" and q.to == "w")
    grad = run.trace(1).node("w").grad
    assert w.shape == (5, 3) and w.element == (0, 2) and w.value.item() == grad[0, 2].item()
    assert "w[0, 2]" in w.prompt() and predict.judge(w, "-2.8108").right
    update = next(q for q in qs.values() if q.kind == "update" and q.to == "w")
    assert update.element == (0, 2)


def test_a_transposed_answer_is_named():
    run = explorer.run(explorer.Experiment(tensors={"w": "[[1., 2., 3.], [4., 5., 6.]]"}, trainable=("w",),
                                           loss="(w ** 2).sum()"))
    q = next(q for q in predict.questions(run.trace(1), run, 1).values() if q.kind == "grad" and q.to == "w")
    assert predict.judge(q, "[[2, 8], [4, 10], [6, 12]]").why == "transposed"


def test_a_guess_is_student_text_read_by_the_safe_language():
    _, qs = course_questions()
    for bad in ("__import__('os')", "[1, 2", "torch.randn(2)", "open('x')"):
        with pytest.raises(ExplorerError) as e:
            predict.judge(qs[3], bad)
        assert e.value.field == "guess" and e.value.zh


def test_score():
    assert predict.score(3, 4) == "3 of 4 right" and predict.score(3, 4, "zh") == "答对 3 / 4 题"


def test_until_answered_the_graph_and_the_explanation_keep_the_answer_back():
    run, qs = course_questions()
    g = run.trace(1)
    shown, hidden = to_dot(g, 3), to_dot(g, 3, conceal=True)
    assert "[40, 80]" in shown and "[40, 80]" not in hidden and "<?>" in hidden
    assert "**[40, 80]**" in explain_step(g, 3) and "[40, 80]" not in explain_step(g, 3, conceal=True)


def test_the_focused_view_keeps_the_step_its_inputs_and_where_its_gradient_came_from():
    run = explorer.run(PRESETS["mlp"])
    g = run.trace(1)
    for k in range(g.steps + 1):
        f = focused(g, k)
        assert len([n for n in f.nodes if n.label != "⋯"]) <= 6 < len(g.nodes)
        centre = g.step(k) if k else g.node("loss")
        assert centre.id in {n.id for n in f.nodes}
    assert "TanhBackward0" in to_dot(g, 6, focus=True) and "label=\"\"" in to_map(g, 6)


def test_the_course_lesson_is_one_table_in_the_courses_order_with_answers_from_each_parts_run():
    parts = lessons.LESSONS["course"]
    assert len(parts) >= 6
    assert [p.key for p in parts][:7] == ["leaf", "update", "epochs", "zero_grad", "detach", "linear", "lr"]
    for p in parts:
        assert p.title[0] and p.title[1] and p.text[0] and p.text[1]
        run = explorer.run(p.experiment)
        qs = lessons.questions(p, run, run.trace(p.epoch))
        assert qs, p.key
    epochs = lessons.part("course", 3)
    run = explorer.run(epochs.experiment)
    update = [q for q in lessons.questions(epochs, run, run.trace(500)).values() if q.kind == "update"][0]
    assert update.value.item() == 0.00041023982339538634          # the course's printed epoch 500
    assert lessons.part("course", 99) == parts[-1] and lessons.part("nope", 1) is None


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_guess_a_student_could_type_gets_a_verdict_never_a_crash(preset):
    """Right, twice, minus, zero, one element, the wrong shape and nonsense, for every question of every
    example (scalars included): a Verdict, or a guess the language refuses with ExplorerError."""
    run = explorer.run(PRESETS[preset])
    for q in compute.questions(run, 1).values():
        v = q.value
        guesses = [v, 2 * v, -v, torch.zeros_like(v), v.reshape(-1)[:1], torch.ones(3, 2), v + 1e-6]
        texts = [str(float32(g.tolist())) for g in guesses] + ["nan", "1e400", "[[1], [2, 3]]", "w", "[]"]
        for text in texts:
            try:
                verdict = judge(q, text)
            except ExplorerError:
                continue
            assert verdict.message[0] and verdict.message[1]
        assert judge(q, texts[0]).right and not judge(q, texts[1]).right or not bool((v != 0).any())


def test_on_the_wall_the_focused_view_keeps_the_answer_back_too():
    """Projected, a big graph is drawn around the step (`focus`); predicting, it still says "?"."""
    run = explorer.run(PRESETS["linear_layer"])
    g = run.trace(1)
    qs = compute.questions(run, 1)
    assert compute.focus(g, True)
    for k, q in qs.items():
        if q.kind != "grad":
            continue
        answer = str(float32(q.value.tolist()))
        shown = compute.dot_of(run, 1, k, True, "en", focus=True)
        hidden = compute.dot_of(run, 1, k, True, "en", focus=True, conceal=True)
        assert "<?>" in hidden and hidden != shown
        if len(answer) > 3:
            assert answer.replace(" ", "") not in hidden.replace(" ", "").replace("\n", ""), (k, answer)
