"""`python -m autograder`: a thin command line over the grading modules.

    python -m autograder grade SUBMISSION.ipynb [--exercise ID ...] [--json OUT]

Exit 0 whenever grading finished (whatever the score); 2 with a one-line
reason when the file is not a readable notebook of a known assignment.
"""
from __future__ import annotations

import argparse
import sys

EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    grade = verbs.add_parser("grade", help="grade one notebook")
    grade.add_argument("notebook", help="the learner's .ipynb (any file name)")
    grade.add_argument("--exercise", action="append", default=[], metavar="ID", help="grade only this exercise (repeatable)")
    grade.add_argument("--json", metavar="OUT", help="also write Gradescope's results.json here")
    grade.add_argument("--seed", type=int, default=None, help="seed for the hidden checks' random inputs")
    grade.add_argument("--public-only", action="store_true", help="run only the public checks (self-check)")
    grade.add_argument("--quiet", action="store_true", help="print the score table without failure details")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.verb == "grade":
        return _grade(args)
    return EXIT_BAD_INPUT  # pragma: no cover - argparse enforces the verbs


def _grade(args: argparse.Namespace) -> int:
    from autograder.notebook import NotebookError

    try:
        from autograder import grading, report

        result = grading.grade(args.notebook, args.exercise or None, args.seed, hidden=not args.public_only)
    except NotebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(report.table(result, verbose=not args.quiet))
    if args.json:
        report.write_json(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
