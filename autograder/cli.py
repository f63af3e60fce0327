"""`python -m autograder`: a thin command line over the grading modules.

    python -m autograder grade SUBMISSION.ipynb [--exercise ID ...] [--json OUT]
    python -m autograder grade A.ipynb B.ipynb ... --json-dir OUT/ [--jobs N] [--root DIR]   (a batch)
    python -m autograder report OUT/                 (the class's CSV and HTML report)
    python -m autograder gradescope ASSIGNMENT       (the Gradescope autograder zip)

Exit 0 whenever grading finished (whatever the score); 2 with a one-line
reason when a file is not a readable notebook of a known assignment (in a
batch, the other notebooks are still graded).
"""
from __future__ import annotations

import argparse
import sys

EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    grade = verbs.add_parser("grade", help="grade one notebook")
    grade.add_argument("notebooks", nargs="+", metavar="notebook", help="the learner's .ipynb (any file name)")
    grade.add_argument("--exercise", action="append", default=[], metavar="ID", help="grade only this exercise (repeatable)")
    grade.add_argument("--json", metavar="OUT", help="also write Gradescope's results.json here")
    grade.add_argument("--json-dir", metavar="DIR",
                       help="for a batch: write <identity>.json here (nbgrader's student folder, else the path under "
                            "--root, else the file name); a rerun grades only what has no complete result")
    grade.add_argument("--seed", type=int, default=None, help="seed for the hidden checks' random inputs")
    grade.add_argument("--public-only", action="store_true", help="run only the public checks (self-check)")
    grade.add_argument("--quiet", action="store_true", help="print the score table without failure details")
    grade.add_argument("--timing", choices=("auto", "cpu", "off"), default="auto",
                       help="time the learner's operators against PyTorch's, not graded (autograder.timing): "
                            "auto = on a CUDA device if there is one, cpu = on the CPU, off = not at all")
    grade.add_argument("--allow-unconfined", action="store_true",
                       help="grade for credit even where learner code cannot be confined (runs as this user)")
    grade.add_argument("--jobs", type=int, default=1, metavar="N", help="for a batch: grade on N worker processes")
    grade.add_argument("--root", metavar="DIR", help="for a batch: name each result by the notebook's path under DIR")
    grade.add_argument("--assignment", metavar="ID",
                       help="grade only notebooks of this assignment (another one gets 0 and the reason)")
    demo = verbs.add_parser("demo", help="release, then grade the bundled sample class with nbgrader and the CLI grader")
    demo.add_argument("--assignment", action="append", default=[], metavar="ID", help="only this assignment (repeatable)")
    demo.add_argument("--work", metavar="DIR", help="where to build the class (default: a new temporary folder)")
    release = verbs.add_parser("release", help="regenerate assignments/ from solutions/ with nbgrader")
    release.add_argument("assignment", nargs="*", help="assignment ids (default: all)")
    report = verbs.add_parser("report", help="a class report (CSV, HTML with charts) from a folder of results")
    report.add_argument("results", metavar="DIR", help="the --json-dir of a batch")
    report.add_argument("--out", metavar="DIR", help="where to write the report (default: DIR)")
    gradescope = verbs.add_parser("gradescope", help="build the Gradescope autograder zip for one assignment")
    gradescope.add_argument("assignment", help="the assignment id (the zip grades only its notebooks)")
    gradescope.add_argument("--output", "-o", metavar="ZIP", help="default: gradescope_<assignment>.zip")
    gradescope.add_argument("--exercise", action="append", default=[], metavar="ID",
                            help="grade only this exercise (repeatable)")
    bundle = verbs.add_parser("bundle", help="the learner bundle: releases, data, public package (autograder.bundle)")
    bundle.add_argument("out", metavar="OUT.zip", help="the zip to write")
    secret = verbs.add_parser("secret", help="write the course secret that seeds the hidden checks (once per course)")
    secret.add_argument("--force", action="store_true", help="replace an existing secret (changes every hidden input)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.verb == "grade":
        return _grade(args)
    if args.verb == "demo":
        from autograder import demo

        return 0 if demo.run(args.assignment or None, args.work) else 1
    if args.verb == "report":
        from autograder import class_report

        return class_report.main(args.results, args.out)
    if args.verb == "gradescope":
        from autograder import gradescope

        return gradescope.main(args.assignment, args.output, args.exercise)
    if args.verb == "bundle":
        from autograder import bundle

        return bundle.main(args.out)
    if args.verb == "secret":
        from autograder.seeds import make_secret

        print(f"course secret: {make_secret(args.force)}")
        return 0
    if args.verb == "release":
        from autograder import nbgrader_support
        from autograder.course import course_root, known_assignments

        nbgrader_support.release(args.assignment or known_assignments(), course_root())
        return 0
    return EXIT_BAD_INPUT  # pragma: no cover - argparse enforces the verbs


def _grade(args: argparse.Namespace) -> int:
    from autograder.notebook import NotebookError

    if args.json and len(args.notebooks) > 1:
        print("error: --json takes one notebook; use --json-dir for several", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json_dir or args.jobs != 1 or args.root:
        return _grade_batch(args)
    from autograder.course import open_submission

    status = 0
    for notebook in args.notebooks:
        try:
            open_submission(notebook, from_source=not args.public_only)  # fail fast, before importing torch
            if args.assignment:
                from autograder.batch import require_assignment

                require_assignment(notebook, args.assignment)
            from autograder.zygote import ZygoteClient

            ZygoteClient.shared()  # warms up (imports torch) while this process does the same
            from autograder import grading, report

            result = grading.grade(notebook, args.exercise or None, args.seed, hidden=not args.public_only,
                                   allow_unconfined=args.allow_unconfined, timing=args.timing)
        except NotebookError as error:
            print(f"error: {error}", file=sys.stderr)
            status = EXIT_BAD_INPUT
            continue
        print(report.table(result, verbose=not args.quiet))
        if len(args.notebooks) > 1:
            print()
        if args.json:
            report.write_json(result, args.json)
    return status


def _grade_batch(args: argparse.Namespace) -> int:
    """A class (autograder.batch): results named after each submission,
    on --jobs workers, resumable."""
    from autograder import batch
    from autograder.notebook import NotebookError

    if not args.json_dir or args.json or args.jobs < 1:
        print("error: --jobs and --root grade a batch into --json-dir DIR (not --json); --jobs is at least 1",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if args.assignment:
            from autograder.course import load_assignment

            load_assignment(args.assignment)  # one line if unknown
        jobs = batch.plan(args.notebooks, args.json_dir, args.root, args.assignment)
    except NotebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    options = batch.Options(tuple(args.exercise), args.seed, not args.public_only, args.allow_unconfined,
                            args.assignment, not args.quiet, args.timing)
    summary = batch.run(jobs, options, args.jobs)
    if len(jobs) > 1 and not summary.refused:
        print(batch.describe(summary), file=sys.stderr)
    return summary.exit_status


if __name__ == "__main__":
    raise SystemExit(main())
