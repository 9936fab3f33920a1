"""Kernel-level confinement of one ``--run`` child: runs under *Airflow's* interpreter, loaded by
sandbox_run.py by path. Standard library only (ctypes onto libc).

A DAG's tasks may start processes (BashOperator), and the audit hook cannot see inside them. So,
before the DAG file is even parsed, a run child that is root:

1. enters a private mount namespace (changes never propagate back) and remounts every
   filesystem read-only except its own job folder, bind-mounted on itself: a shell task cannot
   write anywhere else, whatever its user may do on the host;
2. drops every capability (bounding, effective, permitted, inheritable, ambient) and sets
   no_new_privs: it can no longer remount, enter the host's network namespace with ``setns``
   (which root otherwise can, through ``/proc/PID/ns/net``), load modules, trace processes or
   exceed RLIMIT_NPROC, and setuid programs give nothing back;
3. for other users, caps processes: RLIMIT_NPROC is the user's current count plus a margin (the
   limit counts every process of the user on the machine). Linux never applies it to uid 0:
   as root, the number is bounded by the job's pids cgroup when the worker could make one
   (sandbox_pids.py), otherwise only in time (the run's limit, its process group, the PID
   namespace). The read-only mounts of 1 also keep a root task from leaving that cgroup.

Without root none of 1-2 is possible and the child says so; the audit hook and rlimits remain.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_REC, MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 16384, 1 << 18, 1 << 21, 1 << 24
KEPT_FLAGS = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
    "strictatime": MS_STRICTATIME,
}
PR_CAPBSET_DROP, PR_SET_SECUREBITS, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 24, 28, 38, 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SECURE_NOROOT_ALL_LOCKED = 0x2F  # NOROOT, NO_SETUID_FIXUP (+ locks), KEEP_CAPS_LOCKED
CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mounts() -> list[tuple[str, str]]:
    """(mount point, per-mount options) of this mount namespace, from /proc/self/mountinfo."""
    entries = []
    with open("/proc/self/mountinfo", encoding="utf-8") as fh:
        for line in fh:
            fields = line.split()
            point = fields[4].encode().decode("unicode_escape")  # \040 is a space
            entries.append((point, fields[5]))
    return entries


def read_only_except(writable: str) -> str:
    """Private mount namespace, everything read-only but ``writable``. Raises OSError if unable."""
    libc = _libc()
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    _check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    # First and mandatory: nothing done below may propagate to the parent namespace.
    _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    if os.readlink("/proc/self") != str(os.getpid()):  # a PID namespace seeing the host's /proc
        flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
        _check(libc.mount(b"proc", b"/proc", b"proc", flags, None), "mount this namespace's /proc")
    folder = os.path.realpath(writable)
    _check(libc.mount(os.fsencode(folder), os.fsencode(folder), None, MS_BIND, None), "bind the job folder")
    failed = []
    for point, options in reversed(_mounts()):
        if point == folder or "ro" in options.split(","):
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for option in options.split(","):
            flags |= KEPT_FLAGS.get(option, 0)
        if libc.mount(None, os.fsencode(point), None, flags, None) != 0:
            failed.append(point)
    writable_elsewhere = [p for p in failed if p in {"/", "/tmp", "/root", "/home", "/etc", "/var"}]
    if writable_elsewhere:
        raise OSError(f"could not make {', '.join(writable_elsewhere)} read-only")
    return "read-only except the run's own folder (private mount namespace)" + (
        f"; still writable: {', '.join(failed[:5])}" if failed else ""
    )


def drop_capabilities() -> str:
    libc = _libc()
    with contextlib.suppress(OSError):  # belt and braces; the bounding set is what matters
        _check(libc.prctl(PR_SET_SECUREBITS, SECURE_NOROOT_ALL_LOCKED, 0, 0, 0), "securebits")
    with open("/proc/sys/kernel/cap_last_cap") as fh:
        last = int(fh.read())
    for capability in range(last + 1):
        _check(libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0), f"drop capability {capability}")
    with contextlib.suppress(OSError):
        _check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient")
    header = _CapHeader(CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(libc.capset(ctypes.byref(header), data), "capset")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    with open("/proc/self/status") as fh:
        effective = next(line.split()[1] for line in fh if line.startswith("CapEff:"))
    if int(effective, 16) != 0:
        raise OSError(f"capabilities still effective: {effective}")
    return "root without any capability (no_new_privs)"


def user_processes(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, KeyError), open(f"/proc/{entry}/status") as fh:
            fields = dict(line.split(":", 1) for line in fh if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields.get("Threads", "1"))
    return count


def confine(job_dir: str, max_processes: int, pids_cgroup: str | None = None) -> dict[str, str]:
    """Apply what this platform allows; return what is in force, for the report. ``pids_cgroup``
    describes the pids cgroup the worker already put this child in, if any."""
    state: dict[str, str] = {}
    if os.geteuid() == 0:
        try:
            state["filesystem"] = read_only_except(job_dir)
        except OSError as exc:
            state["filesystem"] = (
                f"writable as root (read-only mounts failed: {exc}); Python writes still checked"
            )
        try:
            state["privileges"] = drop_capabilities()
        except OSError as exc:
            state["privileges"] = f"root WITH capabilities (dropping them failed: {exc})"
    else:
        state["filesystem"] = (
            f"writable wherever uid {os.getuid()} may write; Python writes checked by the hook"
        )
        state["privileges"] = f"uid {os.getuid()} (not root: nothing to drop)"
    if os.getuid() == 0:
        # Linux never applies RLIMIT_NPROC to uid 0, capabilities or not.
        state["processes"] = pids_cgroup or (
            "not limited in number: no writable pids cgroup, and Linux exempts uid 0 from "
            "RLIMIT_NPROC; bounded in time by the run's time limit, its process group and the PID "
            "namespace"
        )
    else:
        limit = user_processes(os.getuid()) + max_processes
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))
        state["processes"] = f"RLIMIT_NPROC {limit} ({max_processes} above what the user already runs)"
        if pids_cgroup:
            state["processes"] += f"; {pids_cgroup}"
    return state
