"""Is the feedback free of noise? No traceback on a ✗ (in Jupyter, in
`pytest`), the learner's line named the same way in the notebook, the
self-check and the grader, the crashes every course sees explained with the
shapes involved, numbers shown with the digits that differ, every failing
operation of `Value` listed, and the learner's time budgets kept by the
self-check that runs in pytest's process."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.checking import LearnerError, OutcomeKind
from autograder.compare import expect_number, format_pair
from autograder.notebook import cell_role
from autograder.scenarios import call
from autograder.selfcheck import CheckError, LocalRun, NotebookCheck, SelfCheckResult
from autograder.submissions import reference_answers, release_path
from tests.catalogue.a3_softmax import VARIANTS as A3_VARIANTS
from tests.submissions import reference_submission

TRACEBACK = "Traceback (most recent call last)"
FLATTEN_VIEW = next(v for v in A3_VARIANTS if v.name == "flatten_view")
FLATTEN_VIEW_LINE = "at line 3 of the answer cell for Flatten: return X.view(X.shape[0], -1)"

SGD_REBINDS = '''def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param = param - lr * param.grad / batch_size
            param.grad.zero_()
'''
MLP_NO_FLATTEN = '''class MLP(nn.Module):
    def __init__(self, num_inputs, num_hiddens, num_outputs, dropout=0.0):
        super().__init__()
        layers = []
        for h in num_hiddens:
            layers += [nn.Linear(num_inputs, h), nn.ReLU(), Dropout(dropout)]
            num_inputs = h
        layers.append(nn.Linear(num_inputs, num_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, X):
        return self.net(X)
'''
NG_CLONE_VIEW = '''def numerical_grad(f, x, eps=1e-6):
    x_work = x.clone()
    flat = x_work.view(-1)
    grad = torch.zeros_like(flat)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        f_plus = float(f(x_work))
        flat[i] = old - eps
        f_minus = float(f(x_work))
        flat[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad.reshape(x.shape)
'''


def _public_result(assignment: str, exercise: str, source: str, folder: Path) -> SelfCheckResult:
    notebook = reference_submission(assignment, folder / f"{assignment}.ipynb", **{exercise: source})
    (result,) = [r for r in NotebookCheck(notebook).check(exercise) if r.test_id == exercise]
    return result


@pytest.mark.parametrize("assignment,exercise,source,phrases", [
    ("a2_linear_regression", "sgd", SGD_REBINDS,
     ["AttributeError", "'NoneType' object has no attribute 'zero_'", "at line 5 of the answer cell for sgd: param.grad.zero_()",
      "Hint: this tensor's .grad is None. `param = param - lr * param.grad` makes a NEW tensor"]),
    ("a4_mlp", "MLP", MLP_NO_FLATTEN,
     ["mat1 and mat2 shapes cannot be multiplied", "at line 12 of the answer cell for MLP: return self.net(X)",
      "where X: shape (20, 1, 8, 8) float32", "Hint: a Linear layer got rows of the wrong width: flatten each example first"]),
    ("a1_autograd", "numerical_grad", NG_CLONE_VIEW,
     ["view size is not compatible", "at line 3 of the answer cell for numerical_grad: flat = x_work.view(-1)",
      "x_work: shape (3, 4) float64, not contiguous (strides (1, 3))", "x.clone() keeps the strides"]),
], ids=["sgd-rebinds-param", "mlp-without-flatten", "numerical-grad-clone-view"])
def test_known_crashes_get_a_hint_with_the_shapes(assignment: str, exercise: str, source: str, phrases: list[str],
                                                  tmp_path: Path) -> None:
    result = _public_result(assignment, exercise, source, tmp_path)
    assert not result.passed and result.kind is OutcomeKind.ERROR
    for phrase in phrases:
        assert phrase in result.output, f"{phrase!r} not in:\n{result.output}"


def test_numbers_differ_in_the_message_when_they_differ() -> None:
    assert format_pair(0.26762723, 0.26762731) == ("0.2676272", "0.2676273")
    assert format_pair(1.0, 2.0) == ("1", "2")
    with pytest.raises(Exception) as failure:
        expect_number(0.26762731, 0.26762723, "accuracy", rel=1e-9)
    assert "expected 0.2676272, got 0.2676273" in str(failure.value)


def test_every_failing_operation_of_value_is_listed(tmp_path: Path) -> None:
    source = reference_answers("a1_autograd")["Value"]
    wrong = source.replace("self.grad += (1 - t**2) * out.grad", "self.grad += (1 - t) * out.grad") \
                  .replace("return other + (-self)", "return self - other")
    assert wrong.count("(1 - t) * out.grad") == 1 and "return self - other" in wrong
    result = _public_result("a1_autograd", "Value", wrong, tmp_path)
    assert not result.passed
    assert "2 of 22 operations fail alone" in result.output, result.output
    assert "out = 2 - a, a = 1.5" in result.output and "out = a.tanh(), a = 0.7" in result.output
    assert "the rule of `.tanh()` is wrong" in result.output and "Hint: the forward of `number - Value`" in result.output
    assert "from autograder.graph import draw; draw(v1)" in result.output


def test_a_check_error_shows_as_one_line_in_jupyter() -> None:
    rendered = CheckError("softmax: public checks failed (details above)")._render_traceback_()
    assert len(rendered) == 1 and "CheckError" in rendered[0] and "softmax" in rendered[0]
    assert TRACEBACK not in rendered[0]


def test_the_self_check_keeps_the_time_budgets(tmp_path: Path) -> None:
    def endless() -> None:
        while True:
            pass

    run = LocalRun({"endless": endless}, [], "endless", needs=("endless",), timeout_s=1.0)
    with pytest.raises(LearnerError) as error:
        run(call, "endless")
    assert error.value.kind is OutcomeKind.TIMEOUT and "endless did not finish within 1 s" in error.value.message
    with pytest.raises(LearnerError, match="did not finish in an earlier test"):
        run(call, "endless")
    hanging = reference_submission("a3_softmax", tmp_path / "hangs.ipynb", accuracy="while True:\n    pass\n")
    (result,) = NotebookCheck(hanging, cell_timeout_s=1.0).check("accuracy")
    assert result.kind is OutcomeKind.TIMEOUT
    assert "the answer cell for accuracy did not finish within 1 s; it was skipped" in result.output


def test_the_grader_names_the_learners_line_as_the_self_check_does(tmp_path: Path) -> None:
    from autograder.grading import grade

    notebook = reference_submission("a3_softmax", tmp_path / "a3_softmax.ipynb", Flatten=FLATTEN_VIEW.source)
    (mine,) = [r for r in NotebookCheck(notebook).check("Flatten") if r.test_id == "Flatten"]
    graded = grade(notebook, ["Flatten"], seed=0, hidden=False)
    (theirs,) = [r for r in graded.results if r.test_id == "Flatten"]
    assert FLATTEN_VIEW_LINE in mine.output and FLATTEN_VIEW_LINE in theirs.output, f"{mine.output}\n---\n{theirs.output}"
    assert mine.output == theirs.output, f"{mine.output}\n---\n{theirs.output}"


def _test_cells_only(path: Path, target: Path) -> Path:
    """The notebook without its demo cells: setup, answer and test cells."""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells = [cell for cell in notebook.cells if cell.cell_type == "code" and cell_role(cell) in ("setup", "answer", "test")]
    nbformat.write(notebook, target)
    return target


def _execute(path: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook


@pytest.mark.parametrize("assignment,answers", [("a1_autograd", None), ("a3_softmax", {"Flatten": FLATTEN_VIEW.source})],
                         ids=["a1-release", "a3-flatten-view"])
def test_test_cells_of_an_executed_notebook_show_no_traceback(assignment: str, answers: dict[str, str] | None,
                                                              tmp_path: Path) -> None:
    source = release_path(assignment) if answers is None else reference_submission(
        assignment, tmp_path / "filled.ipynb", **answers)
    notebook = _execute(_test_cells_only(source, tmp_path / f"{assignment}.ipynb"))
    tests = [cell for cell in notebook.cells if cell_role(cell) == "test"]
    failing = 0
    for cell in tests:
        errors = [output for output in cell.outputs if output.output_type == "error"]
        text = "\n".join(output.get("text", "") for output in cell.outputs) + "\n".join(
            "\n".join(output.get("traceback", [])) for output in errors)
        assert TRACEBACK not in text and "selfcheck.py" not in text, text
        assert len(errors) <= 1, text
        if errors:
            failing += 1
            assert errors[0].ename == "CheckError" and len(errors[0].traceback) == 1, errors[0]
            assert "✗" in text
    assert failing, "no test cell failed"
    if answers is not None:
        (flatten,) = [cell for cell in tests if cell.metadata["dlworkbook"]["test"] == "Flatten"]
        assert FLATTEN_VIEW_LINE in "\n".join(output.get("text", "") for output in flatten.outputs)


def test_pytest_on_a_notebook_reports_the_failure_without_a_traceback(tmp_path: Path) -> None:
    notebook = reference_submission("a3_softmax", tmp_path / "a3_softmax.ipynb", Flatten=FLATTEN_VIEW.source)
    completed = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", notebook.name],
                               capture_output=True, text=True, cwd=tmp_path, timeout=300)
    out = completed.stdout + completed.stderr
    assert completed.returncode == 1, out
    assert "1 failed, 5 passed" in out, out
    assert "✗ Flatten works on a non-contiguous (transposed) (2, 3, 4, 5) batch" in out and "Hint: view()" in out
    assert FLATTEN_VIEW_LINE in out
    assert TRACEBACK not in out and "selfcheck.py" not in out and "pytest_plugin.py" not in out, out


def test_message_catalogues_translate_templates(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The gettext catalogues (autograder.i18n): an exact entry, a rendered
    f-string through its template, the environment variable over the
    notebook's language, English by default, and the .po syntax."""
    from autograder import i18n

    monkeypatch.delenv(i18n.LANGUAGE_ENV, raising=False)
    i18n.set_language("zh_CN")
    try:
        assert i18n._("Hint:") == "提示："
        assert i18n.translate("partial credit: 3 of 4 checks passed") == "部分得分：4 项检查中通过了 3 项"
        assert i18n._("a message nobody translated") == "a message nobody translated"
        monkeypatch.setenv(i18n.LANGUAGE_ENV, "en")
        assert i18n._("Hint:") == "Hint:"
    finally:
        i18n.set_language(None)
    monkeypatch.delenv(i18n.LANGUAGE_ENV)
    assert i18n.translate("partial credit: 3 of 4 checks passed") == "partial credit: 3 of 4 checks passed"
    po = tmp_path / "fr" / "LC_MESSAGES" / "dlworkbook.po"
    po.parent.mkdir(parents=True)
    po.write_text('#, fuzzy\nmsgid "a"\nmsgstr "b"\n\nmsgid ""\n"two "\n"lines"\nmsgstr "deux lignes"\n', encoding="utf-8")
    catalogue = i18n.translation("fr_FR", tmp_path)
    assert catalogue.gettext("two lines") == "deux lignes" and catalogue.gettext("a") == "a"
