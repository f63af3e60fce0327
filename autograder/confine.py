"""Confining the learner's process before any learner code runs.

Two steps, both in processes the fork server starts and none of them
running learner code yet:

`enter` (in the fork server's child): a new session and, where the system
allows it, fresh PID, mount, network, IPC and UTS namespaces, made as root
or, without root or without CAP_SYS_ADMIN, inside a new user namespace.
The learner's process is then the first process of the new PID namespace
(a second fork): when the grader kills it, the kernel kills every process
it started, including one that called setsid. When root, the learner's
code runs as a dedicated unprivileged uid (`$DLWORKBOOK_LEARNER_UID`,
default one per grader process) whatever else works.

`confine` (in the learner's process): output to a log file; a mount view
built from an allow-list (the system's libraries, the Python installation,
and in the course only `assignments/`, `datasets/` and the public
`autograder/` package, all read-only; private, size-limited `/tmp`, holding
its working folder, and `/dev/shm`; its own `/proc`), with no network;
then every capability dropped for good and `no_new_privs`; limits on
memory, file sizes and processes.

What was achieved is reported as a level, first, then the details:

- ``full``: own PID namespace, allow-list mount view, no network, a
  non-root uid without capabilities.
- ``uid-only``: no namespaces (an ordinary container), but a dedicated uid,
  all of whose processes and files in the shared temporary folders the
  fork server removes after each test (`autograder.zygote`: so give each
  grader running at the same time its own uid); the instructor's files
  are hidden only if that uid cannot read them, which the details say.
- ``none``: the learner's code runs as the grader's own user; only
  orphaned processes are still killed after each test.
"""
from __future__ import annotations

import ctypes
import json
import os
import platform
import resource
import stat
import tempfile
from dataclasses import dataclass
from typing import Any

LEVEL_FULL = "full"
LEVEL_UID_ONLY = "uid-only"
LEVEL_NONE = "none"
LEARNER_UID_ENV = "DLWORKBOOK_LEARNER_UID"
DEFAULT_LEARNER_UID = 65534  # only where a plan names none
GRADER_UID_BASE = 1_000_000  # + the grader's pid: a uid no account and no other grader uses
TMP_SIZE = "256m"
SHM_SIZE = "64m"
LEARNER_PROCESSES = 256  # processes and threads of the learner's uid: no fork bomb

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
NAMESPACES = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MS_RELATIME = 0x200000
MS_STRICTATIME = 0x1000000
MNT_DETACH = 0x2

PR_CAPBSET_DROP = 24
PR_SET_SECUREBITS = 28
PR_SET_NO_NEW_PRIVS = 38
PR_GET_NO_NEW_PRIVS = 39
PR_SET_CHILD_SUBREAPER = 36
# NOROOT and its lock, NO_SETUID_FIXUP locked off (so changing uid clears
# every capability), KEEP_CAPS locked off, NO_CAP_AMBIENT_RAISE and its lock.
SECURE_BITS = 0x01 | 0x02 | 0x08 | 0x20 | 0x40 | 0x80
LINUX_CAPABILITY_VERSION_3 = 0x20080522
LAST_CAPABILITY = 63
SYSCALLS = {"x86_64": {"capset": 126, "pivot_root": 155}, "aarch64": {"capset": 91, "pivot_root": 41}}

# What every learner process may read: the system's libraries and the
# Python installation (see `autograder.sandbox.read_only_paths` for the rest).
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/ld.so.cache",
                "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/timezone", "/etc/passwd",
                "/etc/group", "/etc/nsswitch.conf", "/etc/hosts", "/etc/alternatives")
DEVICES = ("null", "zero", "full", "random", "urandom")
KEPT_ENVIRONMENT = ("PATH", "LANG", "LANGUAGE", "LC_", "TZ", "TERM", "OMP_", "MKL_", "OPENBLAS_", "PYTHONHASHSEED",
                    "PYTHONIOENCODING", "MPLBACKEND", "DLWORKBOOK_DATASETS")


@dataclass
class _Entered:
    """What `enter` achieved, for `confine` in the same (forked) process."""

    pid_namespace: bool = False
    how: str = ""  # "as root" or "in a user namespace"
    uid: int | None = None  # the dedicated uid switched to (root only)
    why_not: str = ""  # why there are no namespaces
    log_fd: int | None = None


_entered = _Entered()


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def learner_uid() -> int:
    """The uid learner code runs as when the grader is root: $DLWORKBOOK_LEARNER_UID,
    else one of this grader's own (1,000,000 + its pid), so that graders
    running side by side never share a uid and a uid sweep after one test
    can never kill another grader's learner processes."""
    configured = os.environ.get(LEARNER_UID_ENV)
    return int(configured) if configured else GRADER_UID_BASE + os.getpid()


# ---------------------------------------------------------------- step 1: enter


def enter(plan: dict[str, Any], report_fd: int, reply_fd: int, keep_fds: tuple[int, ...] = ()) -> None:
    """In the fork server's child, before anything else: a new session,
    namespaces where possible, the dedicated uid when root. When a PID
    namespace was made, forks the learner's process (its first process) and
    exits. Talks to the fork server in JSON lines on `report_fd`: root in a
    user namespace asks it for an id map (`{"map": [[uid, gid], ...]}`,
    answered by one byte on `reply_fd`, b"1" when done: only a process
    outside the namespace may map more than its own ids); the last line
    gives the learner's pid and whether its uid must be swept after each
    test. Returns only in the learner's process."""
    global _entered
    _entered = _Entered()
    _close_other_fds({0, 1, 2, report_fd, reply_fd, *keep_fds})
    os.setsid()
    _entered.log_fd = os.open(plan["log_path"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    root = os.geteuid() == 0
    uid = int(plan.get("learner_uid", DEFAULT_LEARNER_UID))
    if root:
        os.chown(plan["workdir"], uid, uid)
        os.chmod(plan["workdir"], 0o700)
        _entered.pid_namespace = _unshare(NAMESPACES, "as root")
    if not _entered.pid_namespace:
        # Root keeps root (mapped to itself) to build the view, and the
        # learner's uid to become afterwards; anyone else maps only itself.
        own = [(os.geteuid(), os.getegid())]
        _entered.pid_namespace = _unshare(CLONE_NEWUSER | NAMESPACES, "in a user namespace") and (
            _ask_for_map(report_fd, reply_fd, [(0, 0), (uid, uid)]) if root else _map_ids(own))
    if not _entered.pid_namespace and root:
        _drop_bounding_set()
        _become(uid)
        _entered.uid = uid
    if _entered.pid_namespace:
        learner = os.fork()
        if learner:
            _report(report_fd, {"pid": learner, "sweep_uid": None})
            os._exit(0)
    else:
        _report(report_fd, {"pid": os.getpid(), "sweep_uid": _entered.uid})
    os.close(report_fd)
    os.close(reply_fd)


def _close_other_fds(keep: set[int]) -> None:
    for name in os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else []:
        fd = int(name)
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass  # the listing's own descriptor, already closed


def _unshare(flags: int, how: str) -> bool:
    if platform.machine() not in SYSCALLS:
        _entered.why_not = f"no namespaces on {platform.machine()}"
        return False
    if _libc().unshare(flags) != 0:
        code = ctypes.get_errno()
        reason = f"unshare {how}: {os.strerror(code)}"
        _entered.why_not = f"{_entered.why_not}; {reason}" if _entered.why_not else reason
        return False
    _entered.how = how
    return True


def write_id_maps(pid: int | str, ids: list[tuple[int, int]]) -> None:
    """Map each (uid, gid) to itself in `pid`'s fresh user namespace. A
    process may map only its own ids from inside (and must then give up
    setgroups); more takes CAP_SETUID and CAP_SETGID outside (the fork
    server, when root)."""
    steps = [] if pid != "self" else [("setgroups", "deny")]
    steps += [("uid_map", "".join(f"{uid} {uid} 1\n" for uid, _ in ids)),
              ("gid_map", "".join(f"{gid} {gid} 1\n" for _, gid in ids))]
    for name, text in steps:
        with open(f"/proc/{pid}/{name}", "w") as handle:
            handle.write(text)


def _map_ids(ids: list[tuple[int, int]]) -> bool:
    try:
        write_id_maps("self", ids)
    except OSError as error:
        return _no_map(error.strerror)
    return True


def _ask_for_map(report_fd: int, reply_fd: int, ids: list[tuple[int, int]]) -> bool:
    _report(report_fd, {"map": ids})
    if os.read(reply_fd, 1) == b"1":
        return True
    # Unmapped, this process would still be uid 0 outside, with an owner's
    # access to root's files: it must not run learner code at all.
    assert _entered.log_fd is not None
    os.write(_entered.log_fd, b"cannot confine: the fork server could not map the user namespace's ids\n")
    os._exit(71)


def _no_map(why: str) -> bool:
    _entered.why_not = f"user namespace without an id map ({why})"
    _entered.how = ""
    return False


def _become(uid: int) -> None:
    """Root only: the dedicated uid, no supplementary groups."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def _report(fd: int, message: dict[str, Any]) -> None:
    os.write(fd, (json.dumps(message) + "\n").encode())


# ---------------------------------------------------------------- step 2: confine


def confine(plan: dict[str, Any]) -> list[str]:
    """Everything else, in the order that keeps each step possible; returns
    the level, then what was achieved (for the report)."""
    if _entered.log_fd is None:  # not started by the fork server (a direct call): do what enter would
        os.setsid()
        _entered.log_fd = os.open(plan["log_path"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    redirect_output(_entered.log_fd)
    memory_in_use = _virtual_memory_bytes()  # before the view: its /proc may be missing
    details: list[str] = []
    view = False
    if _entered.pid_namespace:
        details += ["own PID namespace", "no network"]
        try:
            details += build_view(plan)
            view = True
        except OSError as error:
            details.append(f"no mount view ({error})")
    else:
        details.append(f"no namespaces ({_entered.why_not or 'not tried'})")
    os.chdir(plan["workdir"])
    if os.geteuid() == 0:
        _drop_bounding_set()
        _become(int(plan.get("learner_uid", DEFAULT_LEARNER_UID)))
        _entered.uid = os.getuid()
    else:
        _drop_bounding_set()
    no_capabilities = _clear_capabilities()
    no_new_privs = _libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
    uid = os.getuid()
    # No number: the uid is the grader's own choice per run, and reports must not differ between regrades.
    details.append("a dedicated unprivileged uid" if _entered.uid is not None
                   else ("the grader's own uid" if uid != 0 else "uid 0"))
    details.append("no capabilities" if no_capabilities else "capabilities left")
    if no_new_privs:
        details.append("no_new_privs")
    details.append(f"namespaces made {_entered.how}" if _entered.how else "")
    if view and uid != 0 and no_capabilities:
        level = LEVEL_FULL
    elif _entered.uid is not None and uid != 0 and no_capabilities:
        level = LEVEL_UID_ONLY
        details.append("its processes and temporary files removed after each test")
        details.append(_readable_report(plan.get("hidden_paths", []), uid))
    else:
        level = LEVEL_NONE
        details.append("orphaned processes killed after each test")
    _scrub_environment(plan["workdir"])
    limit_resources(plan["memory_bytes"], memory_in_use)
    if level != LEVEL_NONE:  # its uid is its own (or counted in its own user namespace)
        resource.setrlimit(resource.RLIMIT_NPROC, (LEARNER_PROCESSES, LEARNER_PROCESSES))
    return [level, *(detail for detail in details if detail)]


def redirect_output(log_fd: int) -> None:
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    for fd in {devnull, log_fd} - {0, 1, 2}:
        os.close(fd)


def _readable_report(paths: list[str], uid: int) -> str:
    readable = sorted(os.path.basename(path) for path in paths
                      if os.path.exists(path) and (os.access(path, os.R_OK) or os.access(path, os.X_OK)))
    if not readable:
        return f"course files outside assignments, datasets and autograder not readable by uid {uid}"
    shown = ", ".join(readable[:6]) + (f" and {len(readable) - 6} more" if len(readable) > 6 else "")
    return f"course files READABLE by uid {uid}: {shown} (chmod o-rwx them, or grade where namespaces work)"


def _scrub_environment(workdir: str) -> None:
    """Only what the interpreter and numerical libraries use; the grader's
    other variables (paths, secrets) never reach learner code."""
    for name in list(os.environ):
        if not name.startswith(KEPT_ENVIRONMENT):
            del os.environ[name]
    os.environ.update(HOME=workdir, TMPDIR=workdir, MPLBACKEND="Agg")
    tempfile.tempdir = None


def _virtual_memory_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def limit_resources(memory_bytes: int, in_use: int | None = None) -> None:
    """Address space on top of what is mapped now (torch maps a lot), no
    core files, a cap on file sizes."""
    limit = (_virtual_memory_bytes() if in_use is None else in_use) + int(memory_bytes)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    file_limit = 256 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))


# ---------------------------------------------------------------- the mount view


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = lambda text: None if text is None else text.encode()  # noqa: E731
    _check(_libc().mount(encode(source), encode(target), encode(fstype), flags, encode(data)),
           f"mount {source or ''} on {target}")


def _locked_flags(path: str) -> int:
    """The flags a read-only remount must keep: inside a user namespace the
    kernel refuses to clear nosuid, nodev, noexec or the atime mode."""
    got = os.statvfs(path).f_flag
    flags = MS_NOSUID | MS_NODEV
    flags |= MS_NOEXEC if got & os.ST_NOEXEC else 0
    if got & os.ST_NOATIME:
        flags |= MS_NOATIME
    elif got & os.ST_RELATIME:
        flags |= MS_RELATIME
    else:
        flags |= MS_STRICTATIME
    return flags | (MS_NODIRATIME if got & os.ST_NODIRATIME else 0)


def _make_parents(root: str, path: str) -> str:
    target = root + path
    os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
    return target


def _bind(root: str, path: str, read_only: bool = True) -> None:
    info = os.lstat(path)
    target = _make_parents(root, path)
    if stat.S_ISLNK(info.st_mode):
        if not os.path.lexists(target):
            os.symlink(os.readlink(path), target)
        return
    if stat.S_ISDIR(info.st_mode):
        os.makedirs(target, mode=0o755, exist_ok=True)
    elif not os.path.exists(target):
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))
    _mount(path, target, None, MS_BIND | MS_REC)
    if read_only:
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _locked_flags(path))


def build_view(plan: dict[str, Any]) -> list[str]:
    """Replace this process's root by a tmpfs holding only what the plan
    allows (read-only), private /tmp (with its working folder) and
    /dev/shm, a few devices and its own /proc; the old root is detached,
    so nothing else exists for it, whatever its permissions."""
    root = plan["view_root"]
    os.umask(0o022)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=0755")
    # /tmp first: the scratch folder, and any allowed path below /tmp, go inside it.
    for path, size in (("/tmp", TMP_SIZE), ("/dev/shm", SHM_SIZE)):
        target = root + path
        os.makedirs(target, mode=0o755, exist_ok=True)
        _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
    missing = []
    for path in plan.get("read_only_paths", []):
        try:
            _bind(root, path)
        except OSError as error:  # not there, or not reachable from here: it stays out of the view
            missing.append(f"{path} ({error.strerror})")
    # NVIDIA's device nodes, where a GPU is present, so that the timing report
    # (autograder.timing) can run the learner's code on it (not tried here: no GPU).
    gpus = sorted(name for name in os.listdir("/dev") if name.startswith("nvidia")) if os.path.isdir("/dev") else []
    for name in DEVICES:
        if os.path.exists(f"/dev/{name}"):
            _bind(root, f"/dev/{name}", read_only=False)
    for name in gpus:
        try:
            _bind(root, f"/dev/{name}", read_only=False)
        except OSError:  # not bindable from here: the timing report then says the GPU was not reachable
            continue
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{root}/dev/{name}")
    # Its working folder lives in its private /tmp: what it writes is bounded, and gone with it.
    workdir = root + plan["workdir"]
    os.makedirs(workdir, mode=0o700, exist_ok=True)
    if os.geteuid() == 0:  # root (in a user namespace or not) becomes the learner's uid later
        uid = int(plan.get("learner_uid", DEFAULT_LEARNER_UID))
        os.chown(workdir, uid, uid)
    details = ["allow-list mount view (course: assignments, datasets, autograder; Python read-only)",
               f"private /tmp ({TMP_SIZE}, its working folder inside) and /dev/shm ({SHM_SIZE})"]
    if missing:
        details.append(f"left out of the view: {', '.join(missing)}"[:190])
    os.makedirs(f"{root}/proc", mode=0o555, exist_ok=True)
    try:
        _mount("proc", f"{root}/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        details.append("own /proc")
    except OSError as error:
        details.append(f"no /proc ({error.strerror})")
    old = f"{root}/.old-root"
    os.mkdir(old, 0o700)
    _check(_libc().syscall(SYSCALLS[platform.machine()]["pivot_root"], root.encode(), old.encode()), "pivot_root")
    os.chdir("/")
    _check(_libc().umount2(b"/.old-root", MNT_DETACH), "detach the old root")
    os.rmdir("/.old-root")
    _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    return details


# ---------------------------------------------------------------- capabilities


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_bounding_set() -> None:
    """No capability can ever come back, not even by running a program
    (needs CAP_SETPCAP: root, or the creator of a user namespace)."""
    libc = _libc()
    for cap in range(LAST_CAPABILITY + 1):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # fails past the kernel's last, or without CAP_SETPCAP: harmless
    libc.prctl(PR_SET_SECUREBITS, SECURE_BITS, 0, 0, 0)


def _clear_capabilities() -> bool:
    """Empty effective, permitted and inheritable sets; True when that holds."""
    if platform.machine() not in SYSCALLS:
        return False
    header = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    if _libc().syscall(SYSCALLS[platform.machine()]["capset"], ctypes.byref(header), ctypes.byref(data)) != 0:
        return False
    try:
        with open("/proc/self/status") as status:
            return all(int(line.split()[1], 16) == 0 for line in status
                       if line.startswith(("CapEff:", "CapPrm:", "CapAmb:")))
    except OSError:
        return True  # no /proc in this view: capset above succeeded


def make_subreaper() -> bool:
    """Orphaned descendants of this process's children become its children
    (so the fork server can kill what a learner process left behind)."""
    return _libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0

