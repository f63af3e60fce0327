"""nbgrader configuration of the dlworkbook course (nbgrader 0.9.6).

The repository root is the course root: run nbgrader from here, e.g.
`nbgrader generate_assignment <id> --force`. That needs no gradebook entry
beforehand: GenerateAssignment.create_assignment is True by default in 0.9.x
(`--create` is a deprecated no-op) and adds the assignment to the gradebook.
`--no-db` skips the gradebook altogether (same notebooks, but autograde then
cannot restore edited tests, so only side builds use it).

The gradebook is nbgrader's default `<course root>/gradebook.db`, git-ignored
like `submitted/`, `autograded/` and `feedback/`. nbgrader writes no log file
unless NbGrader.logfile is set.

Python glue: autograder/nbgrader_support.py.
"""

c = get_config()  # noqa: F821 -- provided by traitlets when it loads this file

c.CourseDirectory.course_id = "dlworkbook"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"

# Files never copied from solutions/<id>/ into a release. The same list is
# used by every step that copies an assignment folder, so hidden_checks.py
# also stays out of autograded/ and feedback/ (the checks import it from
# solutions/ directly).
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "__pycache__",
    "*.pyc",
    "feedback",
    "hidden_checks.py",
    "*.po",  # the hidden checks' translations
    "*.zh_CN.md",  # the lesson's translation (released as assignments/zh_CN/<id>/)
]

# Feedback: nbgrader's two default preprocessors plus one that blanks hidden
# tests and error tracebacks (jupyter/nbgrader#917). Named by import path so
# this file loads even where the autograder package is not importable.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.nbgrader_support.StripHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Autograde runs only setup, answer and test cells, like the CLI grader:
# lesson demos (training runs, plots) and a learner's scratch cells are
# tagged skip-execution after nbgrader's own sanitizers.
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
    "autograder.nbgrader_support.SkipUngradedCells",
]

# Seconds a cell may run during autograde (nbgrader's default is 30; torch
# cells on a small shared CPU need more). nbgrader's Execute subclasses
# nbconvert's ExecutePreprocessor, so either class name configures it.
c.Execute.timeout = 120
