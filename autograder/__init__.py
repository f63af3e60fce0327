"""dlworkbook's autograder: read a learner's notebook, run their code in
isolation, check it against the reference, report points and feedback.

Importing the package pins torch to one intra-op thread (unless the caller
chose otherwise): on a busy 2-core machine small torch loops otherwise run
about 100x slower.
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

__version__ = "0.1.0"
