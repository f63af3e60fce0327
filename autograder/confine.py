"""Confining the learner's process before any learner code runs.

Always: its own session (so the grader can kill everything it starts), a
memory limit (address space on top of what torch already maps), no core
files, a cap on file sizes, output to a log file, a scratch working folder.

When the grader runs as root (a grading server, CI), also: a private mount
and network namespace where the course's instructor folders (solutions,
hidden checks, other students' work) are covered by an empty tmpfs, the
course, the grader and the Python installation are mounted read-only and
there is no network; then every capability is dropped for good (bounding
set, securebits), so the learner can neither read the reference nor undo
the mounts nor regain privileges by running another program.
"""
from __future__ import annotations

import ctypes
import os
import resource
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 0x1
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
PR_CAPBSET_DROP = 24
PR_SET_SECUREBITS = 28
PR_SET_NO_NEW_PRIVS = 38
SECURE_ALL_LOCKED = 0x2F  # NOROOT, NOROOT_LOCKED, NO_SETUID_FIXUP(_LOCKED), KEEP_CAPS_LOCKED
LINUX_CAPABILITY_VERSION_3 = 0x20080522
LAST_CAPABILITY = 63


def _virtual_memory_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def limit_resources(memory_bytes: int) -> None:
    limit = _virtual_memory_bytes() + int(memory_bytes)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    file_limit = 256 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))


def redirect_output(log_path: str) -> None:
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities(libc: Any) -> bool:
    for cap in range(LAST_CAPABILITY + 1):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # fails past the kernel's last: harmless
    libc.prctl(PR_SET_SECUREBITS, SECURE_ALL_LOCKED, 0, 0, 0)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    header = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    return libc.syscall(126, ctypes.byref(header), ctypes.byref(data)) == 0  # 126: capset on x86_64


def _read_only(libc: Any, path: str) -> bool:
    encoded = path.encode()
    return (libc.mount(encoded, encoded, None, MS_BIND | MS_REC, None) == 0
            and libc.mount(None, encoded, None, MS_REMOUNT | MS_BIND | MS_RDONLY, None) == 0)


def isolate(hidden_paths: list[str], read_only_paths: list[str]) -> list[str]:
    """Namespaces, hidden and read-only folders, no capabilities, as far as
    this process is allowed; returns what was achieved (for the record)."""
    done: list[str] = []
    if os.geteuid() != 0 or os.uname().machine != "x86_64":
        return done
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS | CLONE_NEWNET) == 0 and libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) == 0:
        done.append("namespaces")
        if all(_read_only(libc, path) for path in read_only_paths if os.path.isdir(path)):
            done.append("read-only course and python")
        hidden = [path for path in hidden_paths if os.path.isdir(path)]
        if all(libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_RDONLY, b"size=16k") == 0 for path in hidden):
            done.append("instructor files hidden")
    if _drop_capabilities(libc):
        done.append("no capabilities")
    return done


def confine(plan: dict[str, Any]) -> list[str]:
    """Everything above, in the order that keeps each step possible."""
    os.setsid()
    redirect_output(plan["log_path"])
    achieved = isolate(plan.get("hidden_paths", []), plan.get("read_only_paths", []))
    os.chdir(plan["workdir"])
    limit_resources(plan["memory_bytes"])
    return achieved
