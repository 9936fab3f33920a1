"""A process-count limit per sandbox job with a pids cgroup (Linux), best effort.

Linux never applies RLIMIT_NPROC to root, so a DAG that forks without end at import time would
otherwise be stopped only by the wall-clock limit, and could fill the machine's process table in
the meantime. The warm worker (sandbox_worker.py) therefore puts every forked job child into a
pids cgroup of its own, made before the fork and removed once the job is over::

    limiter, problem = PidsLimiter.setup("assistant-validate-1a2b3c")  # in the worker, once
    cgroup = limiter.new_job(64)                                       # before each fork
    cgroup.join()                                                      # first thing in the child
    usage = cgroup.close()  # after the child is reaped: kills what is left, rmdir, the counts

Where the cgroup lives:

- cgroup v1: the hierarchy with the ``pids`` controller (``/sys/fs/cgroup/pids``); job cgroups are
  children of the worker's own cgroup in it (often the root of the hierarchy);
- cgroup v2: a child of the worker's own cgroup, only when ``pids`` is already enabled in its
  ``cgroup.subtree_control`` and the folder is writable (nothing is enabled here).

When neither exists (not root, a read-only ``/sys/fs/cgroup``, no such controller) ``setup``
returns the reason and the report says that processes are not limited. Threads count as
processes for the pids controller. The assistant removes what a killed worker left behind with
:func:`remove_leftovers`.

Standard library only: the assistant imports this module, and the worker loads it by path under
Airflow's interpreter.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass

PROC_SELF = "/proc/self"
REMOVE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class PidsParent:
    """The folder job cgroups are made in."""

    path: str
    version: int  # 1 or 2


def _unescape(field: str) -> str:
    return field.encode().decode("unicode_escape")  # mountinfo writes a space as \040


def _mounts(mountinfo: str) -> list[tuple[str, str, str, set[str]]]:
    """(filesystem type, root inside the hierarchy, mount point, options) of the cgroup mounts."""
    found = []
    with open(mountinfo, encoding="utf-8") as fh:
        for line in fh:
            before, _, after = line.partition(" - ")
            fields, tail = before.split(), after.split()
            if len(fields) < 6 or len(tail) < 3 or tail[0] not in {"cgroup", "cgroup2"}:
                continue
            options = set(fields[5].split(",")) | set(tail[2].split(","))
            found.append((tail[0], _unescape(fields[3]), _unescape(fields[4]), options))
    return found


def _memberships(cgroup_file: str) -> dict[str, str]:
    """Controller -> this process's cgroup path; the cgroup v2 entry has the key ""."""
    found: dict[str, str] = {}
    with open(cgroup_file, encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split(":", 2)
            if len(parts) == 3:
                for controller in parts[1].split(",") if parts[1] else [""]:
                    found[controller] = parts[2]
    return found


def _folder(mount_point: str, root: str, path: str) -> str | None:
    """The folder of cgroup ``path`` under a mount of the hierarchy's ``root``, if it is visible."""
    root = root.rstrip("/")
    if path != root and not path.startswith(f"{root}/"):
        return None
    return os.path.join(mount_point, path[len(root) :].lstrip("/")).rstrip("/") or "/"


def _unwritable(folder: str, options: set[str]) -> str:
    """Why job cgroups cannot be made in ``folder``; "" when they can."""
    if "ro" in options:
        return f"{folder} is mounted read-only"
    if not os.access(folder, os.W_OK):
        return f"{folder} is not writable by uid {os.geteuid()}: it needs root or a delegated cgroup"
    return ""


def find_parent(proc: str = PROC_SELF) -> tuple[PidsParent | None, str]:
    """(where job cgroups can be made, "") or (None, why no writable pids cgroup exists)."""
    try:
        mounts = _mounts(f"{proc}/mountinfo")
        memberships = _memberships(f"{proc}/cgroup")
    except OSError as exc:
        return None, f"cannot read the cgroups of this process: {exc}"
    for kind, root, point, options in mounts:
        if kind == "cgroup" and "pids" in options:
            folder = _folder(point, root, memberships.get("pids", "?"))
            if folder is None:
                return None, f"this process's pids cgroup is not visible under {point}"
            if problem := _unwritable(folder, options):
                return None, problem
            return PidsParent(folder, 1), ""
    for kind, root, point, options in mounts:
        if kind == "cgroup2" and "" in memberships:
            folder = _folder(point, root, memberships[""])
            if folder is None:
                continue
            try:
                with open(os.path.join(folder, "cgroup.subtree_control"), encoding="utf-8") as fh:
                    enabled = fh.read().split()
            except OSError:
                enabled = []
            if "pids" not in enabled:
                return None, f"the pids controller is not enabled in {folder}/cgroup.subtree_control"
            if problem := _unwritable(folder, options):
                return None, problem
            return PidsParent(folder, 2), ""
    return None, "no pids cgroup controller is mounted"


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as fh:
        fh.write(text)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii") as fh:
            return fh.read()
    except OSError:
        return None


class JobCgroup:
    """One job's pids cgroup. ``error`` set: it could not be made, and :meth:`join` refuses."""

    def __init__(self, path: str, limit: int, error: str = "") -> None:
        self.path = path
        self.limit = limit
        self.error = error

    @classmethod
    def create(cls, path: str, limit: int) -> JobCgroup:
        """Make it (before the fork); failures are kept for :meth:`join` to report in the child."""
        try:
            os.mkdir(path, 0o755)
        except OSError as exc:
            return cls(path, limit, f"mkdir failed: {exc.strerror}")
        try:
            _write(os.path.join(path, "pids.max"), str(limit))
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.rmdir(path)
            return cls(path, limit, f"writing pids.max failed: {exc.strerror}")
        return cls(path, limit)

    def join(self) -> None:
        """Move the calling process in (the child, before it runs anything else)."""
        if self.error:
            raise OSError(f"could not make the pids cgroup {self.path}: {self.error}")
        try:
            _write(os.path.join(self.path, "cgroup.procs"), str(os.getpid()))
        except OSError as exc:
            raise OSError(f"could not enter the pids cgroup {self.path}: {exc.strerror}") from None

    def describe(self) -> str:
        return f"at most {self.limit} processes and threads (pids cgroup)"

    def usage(self) -> dict[str, int | None]:
        """The limit, the highest count seen (pids.peak, newer kernels) and the forks refused."""
        peak = _read(os.path.join(self.path, "pids.peak"))
        events = dict(
            line.split(None, 1)
            for line in (_read(os.path.join(self.path, "pids.events")) or "").splitlines()
            if " " in line
        )
        refused = events.get("max")
        return {
            "limit": self.limit,
            "peak": int(peak) if peak and peak.strip().isdigit() else None,
            "refused": int(refused) if refused and refused.strip().isdigit() else None,
        }

    def _members(self) -> list[int]:
        text = _read(os.path.join(self.path, "cgroup.procs")) or ""
        return [int(pid) for pid in text.split() if pid.isdigit() and int(pid) > 0]

    def close(self, timeout_s: float = REMOVE_TIMEOUT_S) -> dict[str, int | bool | None]:
        """Kill every process still inside, remove the cgroup; returns :meth:`usage` and whether
        the folder is gone. Exited processes nobody reaped yet do not keep it alive."""
        if self.error:
            return {"limit": self.limit, "peak": None, "refused": None, "removed": True}
        usage: dict[str, int | bool | None] = dict(self.usage())
        kill_file = os.path.join(self.path, "cgroup.kill")  # cgroup v2, Linux 5.14+
        deadline = time.monotonic() + timeout_s
        while True:
            members = self._members()
            if not members and self._remove():
                usage["removed"] = True
                return usage
            if os.path.exists(kill_file):
                with contextlib.suppress(OSError):
                    _write(kill_file, "1")
            for pid in members:
                if pid == os.getpid():  # moved in by the job itself: never kill the caller
                    continue
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                usage["removed"] = False
                return usage
            time.sleep(0.01)

    def _remove(self) -> bool:
        try:
            os.rmdir(self.path)
        except FileNotFoundError:
            return True
        except OSError:  # EBUSY: a killed process is still on its way out
            return False
        return True


class PidsLimiter:
    """Makes the job cgroups of one worker: ``PREFIX-1``, ``PREFIX-2``, ... under the parent."""

    def __init__(self, parent: PidsParent, prefix: str) -> None:
        self.parent = parent
        self.prefix = prefix
        self._made = 0

    @classmethod
    def setup(cls, prefix: str, proc: str = PROC_SELF) -> tuple[PidsLimiter | None, str]:
        """(a limiter, "") once a probe child could really be put into a cgroup, else (None, why)."""
        parent, problem = find_parent(proc)
        if parent is None:
            return None, problem
        limiter = cls(parent, prefix)
        probe = JobCgroup.create(os.path.join(parent.path, f"{prefix}-probe"), 4)
        if probe.error:
            return None, f"{parent.path}: {probe.error}"
        pid = os.fork()
        if pid == 0:  # the probe child: join, then leave at once
            try:
                probe.join()
                os._exit(0)
            except BaseException:
                os._exit(1)
        _, status = os.waitpid(pid, 0)
        removed = probe.close().get("removed")
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            return None, f"a process could not be moved into a cgroup under {parent.path}"
        if not removed:
            return None, f"a cgroup under {parent.path} could not be removed again"
        return limiter, ""

    def new_job(self, limit: int) -> JobCgroup:
        self._made += 1
        return JobCgroup.create(os.path.join(self.parent.path, f"{self.prefix}-{self._made}"), limit)

    def describe(self) -> dict[str, object]:
        return {"parent": self.parent.path, "version": self.parent.version, "prefix": self.prefix}


def remove_leftovers(parent: str, prefix: str, timeout_s: float = REMOVE_TIMEOUT_S) -> list[str]:
    """Remove the job cgroups named ``PREFIX-*`` under ``parent`` (a worker that was killed leaves
    them); returns those that could not be removed."""
    try:
        names = [n for n in os.listdir(parent) if n.startswith(f"{prefix}-")]
    except OSError:
        return []
    left = []
    for name in names:
        path = os.path.join(parent, name)
        if os.path.isdir(path) and not JobCgroup(path, 0).close(timeout_s).get("removed"):
            left.append(path)
    return left
