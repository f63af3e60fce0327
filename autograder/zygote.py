"""A warm fork server for learner processes (runs as its own process).

Importing torch costs about two seconds; forking a process that already has
it costs milliseconds. This server imports torch and the checks once, then
forks one learner process per request. Unlike multiprocessing's forkserver
it never re-imports the caller's `__main__` (pytest, a Jupyter kernel), and
it never runs learner code itself.

Protocol on the control socket (the grader's side is `ZygoteClient`): the
grader sends one JSON line with an attached socket, `{"op": "fork", "plan":
...}`, and reads back `{"pid": N}`; `{"op": "status", "pid": N}` reads back
`{"status": code or null}` (negative: killed by that signal).
"""
from __future__ import annotations

import json
import os
import socket
import sys
from multiprocessing.connection import Connection
from typing import Any


def _reply(control: socket.socket, message: dict[str, Any]) -> None:
    control.sendall((json.dumps(message) + "\n").encode())


def _status(pid: int) -> int | None:
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return -9
    if done == 0:
        return None
    return os.waitstatus_to_exitcode(status)


def serve(control_fd: int) -> None:
    from autograder import worker

    control = socket.socket(fileno=control_fd)
    reader = control.makefile("rb")
    while True:
        try:
            line, fds, _, _ = socket.recv_fds(control, 1 << 20, 1)
        except OSError:
            return
        if not line:
            return
        request = json.loads(line)
        if request["op"] == "fork":
            pid = os.fork()
            if pid == 0:
                try:
                    reader.close()
                    control.close()
                    worker.serve(Connection(fds[0]), request["plan"])
                finally:
                    os._exit(70)
            os.close(fds[0])
            _reply(control, {"pid": pid})
        elif request["op"] == "status":
            _reply(control, {"status": _status(request["pid"])})


if __name__ == "__main__":
    serve(int(sys.argv[1]))
