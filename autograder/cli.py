"""`python -m autograder`: a thin command line over the grading modules.

    python -m autograder grade SUBMISSION.ipynb [--exercise ID ...] [--json OUT]
    python -m autograder grade A.ipynb B.ipynb ... --json-dir OUT/   (a batch)

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
    grade.add_argument("--json-dir", metavar="DIR", help="for a batch: write <notebook stem>.json here")
    grade.add_argument("--seed", type=int, default=None, help="seed for the hidden checks' random inputs")
    grade.add_argument("--public-only", action="store_true", help="run only the public checks (self-check)")
    grade.add_argument("--quiet", action="store_true", help="print the score table without failure details")
    demo = verbs.add_parser("demo", help="release, then grade the bundled sample class with nbgrader and the CLI grader")
    demo.add_argument("--assignment", action="append", default=[], metavar="ID", help="only this assignment (repeatable)")
    demo.add_argument("--work", metavar="DIR", help="where to build the class (default: a new temporary folder)")
    release = verbs.add_parser("release", help="regenerate assignments/ from solutions/ with nbgrader")
    release.add_argument("assignment", nargs="*", help="assignment ids (default: all)")
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
    from pathlib import Path

    from autograder.notebook import NotebookError

    if args.json and len(args.notebooks) > 1:
        print("error: --json takes one notebook; use --json-dir for several", file=sys.stderr)
        return EXIT_BAD_INPUT
    from autograder.course import open_submission

    status = 0
    for notebook in args.notebooks:
        try:
            open_submission(notebook, from_source=not args.public_only)  # fail fast, before importing torch
            from autograder.zygote import ZygoteClient

            ZygoteClient.shared()  # warms up (imports torch) while this process does the same
            from autograder import grading, report

            result = grading.grade(notebook, args.exercise or None, args.seed, hidden=not args.public_only)
        except NotebookError as error:
            print(f"error: {error}", file=sys.stderr)
            status = EXIT_BAD_INPUT
            continue
        print(report.table(result, verbose=not args.quiet))
        if len(args.notebooks) > 1:
            print()
        if args.json:
            report.write_json(result, args.json)
        if args.json_dir:
            Path(args.json_dir).mkdir(parents=True, exist_ok=True)
            report.write_json(result, Path(args.json_dir) / f"{Path(notebook).stem}.json")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
