"""A warm fork server for learner processes (runs as its own process).

Importing torch costs about two seconds; forking a process that already has
it costs milliseconds. This server imports torch and the checks once, then
forks one learner process per request. Unlike multiprocessing's forkserver
it never re-imports the caller's `__main__` (pytest, a Jupyter kernel), and
it never runs learner code itself.

It is also what makes sure nothing a learner process started outlives its
test: each learner process is, where the system allows, the first process
of its own PID namespace (see `autograder.confine.enter`), so killing it
kills all its descendants; this server is a child subreaper, so whatever a
learner process orphaned (a grandchild that called setsid) becomes this
server's child and is killed; and where the learner runs as a dedicated uid
without namespaces, every process of that uid is killed and its files in the
shared temporary folders removed. `kill` answers only once all that is done.

Protocol on the control socket (the grader's side is `ZygoteClient`): the
grader sends a length-prefixed JSON request, with an attached socket for
`{"op": "fork", "plan": ...}`, and reads back one JSON line: `{"pid": N}`;
`{"op": "status", "pid": N}` reads back `{"status": code or null}`
(negative: killed by that signal); `{"op": "kill", "pid": N}` kills it and
everything it left, and reads back `{"status": code, "left": n}` (n: processes
still not gone, normally 0); `{"op": "sweep"}` does the same for whatever is
left of earlier learner processes and reads back `{"left": n}`.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from typing import Any

from autograder import confine
from autograder.channel import HEADER, Channel

SHARED_TEMPORARY_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm")
KILL_WAIT_S = 5.0
_learners: dict[int, int | None] = {}  # live learner pid -> the uid to sweep after it (None: its namespace suffices)
_exits: dict[int, int] = {}  # reaped learner pid -> exit code
_sweep_uids: set[int] = set()
_intermediate: dict[int, int] = {}  # learner pid -> the exiting process that made its PID namespace (not yet reaped)


def _reply(control: socket.socket, message: dict[str, Any]) -> None:
    control.sendall((json.dumps(message) + "\n").encode())


def _reap_intermediates(wait: int | None = None) -> None:
    """Reap the processes that made PID namespaces (they exit right after
    reporting); until one is reaped, its learner process is not yet ours.
    `wait`: block for the one of that learner process."""
    for learner, first in list(_intermediate.items()):
        try:
            done, _ = os.waitpid(first, 0 if learner == wait else os.WNOHANG)
        except ChildProcessError:
            done = first
        if done:
            del _intermediate[learner]


def _status(pid: int) -> int | None:
    if pid in _exits:
        return _exits[pid]
    _reap_intermediates(wait=pid)
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return -9
    if done == 0:
        return None
    _exits[pid] = code = os.waitstatus_to_exitcode(status)
    return code


def _read_line(fd: int, deadline: float) -> bytes:
    line = b""
    while not line.endswith(b"\n") and select.select([fd], [], [], max(deadline - time.monotonic(), 0))[0]:
        byte = os.read(fd, 1)
        if not byte:
            break
        line += byte
    return line


def _adopt(first: int, report_fd: int, reply_fd: int) -> int:
    """The learner's pid, as the child just forked reports it: itself, or
    the first process of the PID namespace it made, which becomes this
    server's child when the intermediate exits (we are its subreaper).
    Before that, it may ask for an id map for its user namespace."""
    deadline = time.monotonic() + 30
    report: Any = None
    while True:
        try:
            report = json.loads(_read_line(report_fd, deadline))
        except ValueError:
            report = None
        if not (isinstance(report, dict) and "map" in report):
            break
        try:
            confine.write_id_maps(first, [(int(uid), int(gid)) for uid, gid in report["map"]])
            answer = b"1"
        except (OSError, TypeError, ValueError):
            answer = b"0"
        try:
            os.write(reply_fd, answer)
        except OSError:  # it is gone
            break
    os.close(report_fd)
    os.close(reply_fd)
    try:
        pid, sweep_uid = int(report["pid"]), report.get("sweep_uid")
    except (KeyError, TypeError, ValueError):
        pid, sweep_uid = first, None  # it failed before reporting: the grader sees it gone
    if pid != first:
        _intermediate[pid] = first  # it exits right after reporting: reaped later, not waited for here
    _exits.pop(pid, None)
    _learners[pid] = None if sweep_uid is None else int(sweep_uid)
    if sweep_uid is not None:
        _sweep_uids.add(int(sweep_uid))
    return pid


def _kill(pid: int) -> dict[str, Any]:
    """Kill a learner process and everything it left; answer when done."""
    if pid not in _learners:
        return {"status": _status(pid), "left": _sweep(None)}
    sweep_uid = _learners[pid]
    _reap_intermediates(wait=pid)
    if pid not in _exits:
        try:
            os.kill(pid, signal.SIGKILL)  # the first process of a PID namespace: the kernel kills the rest
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + KILL_WAIT_S
    while _status(pid) is None and time.monotonic() < deadline:
        time.sleep(0.002)
    del _learners[pid]
    return {"status": _status(pid), "left": _sweep(sweep_uid)}


def _children() -> list[int]:
    """This server's children (zombies included) that are neither live
    learner processes nor the intermediates that made their namespaces."""
    _reap_intermediates()
    me, found = os.getpid(), []
    busy = set(_learners) | set(_intermediate.values())
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in busy:
            try:
                with open(f"/proc/{name}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == me:
                found.append(int(name))
    return found


def _processes_of(uid: int) -> list[int]:
    """Processes (not zombies) whose real, effective or saved uid is `uid`."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except OSError:
            continue
        zombie = fields.get("State", "").strip().startswith("Z")
        if uid in {int(value) for value in fields.get("Uid", "").split()[:3]} and not zombie:
            found.append(int(name))
    return found


def _kill_uid(uid: int) -> list[int]:
    """Every process of `uid` killed by a child that becomes `uid` and
    signals everything it may (kill(-1)); returns those that were running."""
    running = _processes_of(uid)
    if running:
        killer = os.fork()
        if killer == 0:
            try:
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(killer, 0)
    return running


def _sweep(uid: int | None) -> int:
    """Kill and reap orphans left by learner processes (and, with a
    dedicated uid, every process of it) until none is left; then remove that
    uid's files from the shared temporary folders. Returns how many were
    still there at the deadline (normally 0)."""
    deadline = time.monotonic() + KILL_WAIT_S
    while True:
        orphans = _children()
        for pid in orphans:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in orphans:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        running = _kill_uid(uid) if uid is not None else []
        if not orphans and not running:
            break
        if time.monotonic() > deadline:
            return len(orphans) + len(running)
        time.sleep(0.002)
    if uid is not None:
        for folder in SHARED_TEMPORARY_FOLDERS:
            _remove_files_of(uid, folder)
    return 0


def _remove_files_of(uid: int, folder: str, depth: int = 0) -> None:
    """Remove what `uid` owns in `folder`, looking into the world-writable
    folders below it (the only other places that uid could write)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        is_folder = stat.S_ISDIR(info.st_mode)
        if info.st_uid == uid:
            if is_folder:
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass
        elif is_folder and info.st_mode & stat.S_IWOTH and depth < 8:
            _remove_files_of(uid, entry.path, depth + 1)


def _sweep_all() -> int:
    left = _sweep(None)
    for uid in sorted(_sweep_uids):
        left += _sweep(uid)
    return left


def _receive_request(control: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """One length-prefixed JSON request and the sockets attached to it; a
    large plan (long answer cells) arrives in several reads."""
    data, fds, _, _ = socket.recv_fds(control, 1 << 16, 1)
    while len(data) < HEADER.size:
        more = control.recv(HEADER.size - len(data))
        if not more:
            raise EOFError
        data += more
    (length,) = HEADER.unpack(data[:HEADER.size])
    body = bytearray(data[HEADER.size:])
    while len(body) < length:
        more = control.recv(min(length - len(body), 1 << 20))
        if not more:
            raise EOFError
        body += more
    return json.loads(bytes(body)), list(fds)


def serve(control_fd: int) -> None:
    from autograder import worker

    confine.make_subreaper()
    control = socket.socket(fileno=control_fd)
    reader = control.makefile("rb")
    while True:
        try:
            request, fds = _receive_request(control)
        except (OSError, EOFError, ValueError):
            break
        if request["op"] == "fork":
            report, report_to_us = os.pipe()
            reply_from_us, reply = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    reader.close()
                    control.close()
                    os.close(report)
                    os.close(reply)
                    # Namespaces and uid; returns only in the learner's process.
                    confine.enter(request["plan"], report_to_us, reply_from_us, keep_fds=(fds[0],))
                    worker.serve(Channel(socket.socket(fileno=fds[0])), request["plan"])
                finally:
                    os._exit(70)
            os.close(fds[0])
            os.close(report_to_us)
            os.close(reply_from_us)
            _reply(control, {"pid": _adopt(pid, report, reply)})
        elif request["op"] == "status":
            _reply(control, {"status": _status(request["pid"])})
        elif request["op"] == "kill":
            _reply(control, _kill(int(request["pid"])))
        elif request["op"] == "sweep":
            _reply(control, {"left": _sweep_all()})
    # The grader is gone: so is everything it started.
    for pid in list(_learners):
        _kill(pid)
    _sweep_all()


class ZygoteClient:
    """The grader's handle on its warm fork server (see autograder.zygote)."""

    _shared: "ZygoteClient | None" = None

    def __init__(self) -> None:
        self.control, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autograder.zygote", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self.replies = self.control.makefile("rb")

    @classmethod
    def shared(cls) -> "ZygoteClient":
        """One server per grading process, restarted if it died."""
        if cls._shared is None or cls._shared.process.poll() is not None:
            cls._shared = cls()
        return cls._shared

    def _ask(self, message: dict[str, Any], fds: list[int] | None = None) -> dict[str, Any]:
        payload = json.dumps(message).encode()
        framed = HEADER.pack(len(payload)) + payload
        sent = socket.send_fds(self.control, [framed[:1 << 16]], fds or [])
        self.control.sendall(framed[sent:])
        line = self.replies.readline()
        if not line:
            raise RuntimeError("the learner-process server stopped")
        return json.loads(line)

    def fork(self, plan: dict[str, Any]) -> tuple[int, Channel]:
        ours, theirs = socket.socketpair()
        try:
            pid = self._ask({"op": "fork", "plan": plan}, [theirs.fileno()])["pid"]
        finally:
            theirs.close()
        return pid, Channel(ours)

    def status(self, pid: int) -> int | None:
        return self._ask({"op": "status", "pid": pid})["status"]

    def kill(self, pid: int) -> int | None:
        """Kill a learner process and everything it left behind; returns
        its exit status once all of it is gone."""
        return self._ask({"op": "kill", "pid": pid})["status"]

    def sweep(self) -> int:
        """Kill whatever is left of earlier learner processes; returns how
        many processes were still there after the wait (normally 0)."""
        return int(self._ask({"op": "sweep"})["left"])


if __name__ == "__main__":
    serve(int(sys.argv[1]))
