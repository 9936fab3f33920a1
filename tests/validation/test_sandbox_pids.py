"""The pids cgroup module against a fake cgroup tree (tmp_path): where job cgroups go on cgroup v1
and v2, why none can be made, and the removal of what a job leaves behind."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from assistant.validation import sandbox_pids
from assistant.validation.import_stage import import_findings, process_limit_findings
from assistant.validation.policy import UNSUPPRESSIBLE
from assistant.validation.sandbox_pids import JobCgroup, PidsLimiter, PidsParent, find_parent

V1_PIDS = "39 31 0:36 {root} {point} rw,relatime - cgroup cgroup rw,pids\n"
V1_OTHER = "35 31 0:32 / {point} rw,relatime - cgroup cgroup rw,memory\n"
V2 = "41 31 0:38 {root} {point} rw,relatime - cgroup2 cgroup2 rw\n"


def _proc(tmp_path: Path, mountinfo: str, cgroup: str) -> str:
    proc = tmp_path / "proc"
    proc.mkdir(exist_ok=True)
    (proc / "mountinfo").write_text(mountinfo)
    (proc / "cgroup").write_text(cgroup)
    return str(proc)


def test_v1_job_cgroups_go_in_this_process_s_pids_cgroup(tmp_path: Path) -> None:
    point = tmp_path / "cg" / "pids"
    (point / "user.slice").mkdir(parents=True)
    mountinfo = V1_OTHER.format(point=tmp_path / "cg" / "memory") + V1_PIDS.format(root="/", point=point)
    proc = _proc(tmp_path, mountinfo, "8:pids:/user.slice\n4:memory:/x\n0::/\n")
    assert find_parent(proc) == (PidsParent(str(point / "user.slice"), 1), "")


def test_v1_mount_of_a_sub_hierarchy_and_a_cgroup_outside_it(tmp_path: Path) -> None:
    point = tmp_path / "pids"
    point.mkdir()
    mountinfo = V1_PIDS.format(root="/docker/abc", point=point)
    inside = _proc(tmp_path, mountinfo, "8:pids:/docker/abc\n")
    assert find_parent(inside) == (PidsParent(str(point), 1), "")
    outside = _proc(tmp_path, mountinfo, "8:pids:/elsewhere\n")
    parent, why = find_parent(outside)
    assert parent is None and "not visible" in why


def test_v1_read_only_is_not_used(tmp_path: Path) -> None:
    point = tmp_path / "pids"
    point.mkdir()
    mountinfo = V1_PIDS.format(root="/", point=point).replace("rw,relatime", "ro,relatime")
    parent, why = find_parent(_proc(tmp_path, mountinfo, "8:pids:/\n"))
    assert parent is None and why == f"{point} is mounted read-only"


def test_v2_needs_pids_in_subtree_control(tmp_path: Path) -> None:
    point = tmp_path / "unified"
    (point / "sandbox").mkdir(parents=True)
    proc = _proc(tmp_path, V2.format(root="/", point=point), "0::/sandbox\n")
    (point / "sandbox" / "cgroup.subtree_control").write_text("cpu memory\n")
    parent, why = find_parent(proc)
    assert parent is None and "subtree_control" in why
    (point / "sandbox" / "cgroup.subtree_control").write_text("cpu memory pids\n")
    assert find_parent(proc) == (PidsParent(str(point / "sandbox"), 2), "")


def test_v1_pids_wins_on_a_hybrid_machine_and_nothing_mounted_is_said(tmp_path: Path) -> None:
    v1, v2 = tmp_path / "pids", tmp_path / "unified"
    v1.mkdir()
    v2.mkdir()
    (v2 / "cgroup.subtree_control").write_text("pids\n")
    mountinfo = V1_PIDS.format(root="/", point=v1) + V2.format(root="/", point=v2)
    assert find_parent(_proc(tmp_path, mountinfo, "8:pids:/\n0::/\n")) == (PidsParent(str(v1), 1), "")
    parent, why = find_parent(_proc(tmp_path, V1_OTHER.format(point=v1), "4:memory:/\n"))
    assert parent is None and why == "no pids cgroup controller is mounted"
    parent, why = find_parent(str(tmp_path / "no-such-proc"))
    assert parent is None and "cannot read" in why


@pytest.fixture
def fake_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """cgroupfs semantics on plain folders: rmdir fails with EBUSY while cgroup.procs lists a
    process and takes the control files with it; kill() takes a process out of its cgroup."""
    killed: list[int] = []
    real_rmdir = os.rmdir

    def rmdir(path: str) -> None:
        procs = Path(path, "cgroup.procs")
        if procs.exists() and procs.read_text().split():
            raise OSError(errno.EBUSY, "Device or resource busy", path)
        for control in Path(path).iterdir():
            control.unlink()
        real_rmdir(path)

    def kill(pid: int, sig: int) -> None:
        killed.append(pid)
        for procs in tmp_path.rglob("cgroup.procs"):
            procs.write_text("".join(f"{p}\n" for p in procs.read_text().split() if int(p) != pid))

    monkeypatch.setattr(sandbox_pids.os, "rmdir", rmdir)
    monkeypatch.setattr(sandbox_pids.os, "kill", kill)
    return killed


def test_a_job_cgroup_is_made_joined_counted_and_removed(tmp_path: Path, fake_kernel: list[int]) -> None:
    cgroup = JobCgroup.create(str(tmp_path / "job-1"), 16)
    assert not cgroup.error and (tmp_path / "job-1" / "pids.max").read_text() == "16"
    cgroup.join()
    assert (tmp_path / "job-1" / "cgroup.procs").read_text() == str(os.getpid())
    (tmp_path / "job-1" / "cgroup.procs").write_text("4242\n4343\n")  # what a fork bomb left
    (tmp_path / "job-1" / "pids.peak").write_text("16\n")
    (tmp_path / "job-1" / "pids.events").write_text("max 37\n")
    usage = cgroup.close()
    assert usage == {"limit": 16, "peak": 16, "refused": 37, "removed": True}
    assert sorted(set(fake_kernel)) == [4242, 4343] and not (tmp_path / "job-1").exists()


def test_older_kernels_without_pids_peak(tmp_path: Path, fake_kernel: list[int]) -> None:
    cgroup = JobCgroup.create(str(tmp_path / "job-1"), 8)
    assert cgroup.usage() == {"limit": 8, "peak": None, "refused": None}
    assert cgroup.close()["removed"] and fake_kernel == []


def test_a_cgroup_that_could_not_be_made_refuses_to_be_joined(tmp_path: Path) -> None:
    cgroup = JobCgroup.create(str(tmp_path / "missing-parent" / "job-1"), 8)
    assert cgroup.error.startswith("mkdir failed")
    with pytest.raises(OSError, match=r"could not make the pids cgroup .*job-1: mkdir failed"):
        cgroup.join()
    assert cgroup.close()["removed"]


def test_a_cgroup_still_busy_at_the_deadline_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cgroup = JobCgroup.create(str(tmp_path / "job-1"), 8)
    (tmp_path / "job-1" / "cgroup.procs").write_text("4242\n")
    monkeypatch.setattr(sandbox_pids.os, "kill", lambda pid, sig: None)  # a process that will not die
    assert cgroup.close(timeout_s=0.05)["removed"] is False
    assert (tmp_path / "job-1").is_dir()


def test_setup_probes_with_a_real_child_and_names_jobs_by_prefix(
    tmp_path: Path, fake_kernel: list[int]
) -> None:
    point = tmp_path / "pids"
    point.mkdir()
    proc = _proc(tmp_path, V1_PIDS.format(root="/", point=point), "8:pids:/\n")
    limiter, why = PidsLimiter.setup("assistant-validate-t", proc)
    assert limiter is not None and why == ""
    assert os.listdir(point) == []  # the probe cgroup is gone again
    assert limiter.describe() == {"parent": str(point), "version": 1, "prefix": "assistant-validate-t"}
    first, second = limiter.new_job(8), limiter.new_job(8)
    assert [Path(first.path).name, Path(second.path).name] == [
        "assistant-validate-t-1",
        "assistant-validate-t-2",
    ]
    (point / "unrelated").mkdir()
    assert sandbox_pids.remove_leftovers(str(point), "assistant-validate-t") == []
    assert os.listdir(point) == ["unrelated"]


def test_setup_says_why_without_a_pids_cgroup(tmp_path: Path) -> None:
    limiter, why = PidsLimiter.setup("p", _proc(tmp_path, "", "0::/\n"))
    assert limiter is None and why == "no pids cgroup controller is mounted"


def test_a_refused_fork_is_a_blocking_unsuppressible_finding() -> None:
    result = {"status": "ok", "dags": [{"dag_id": "d"}], "processes": {"limit": 16, "peak": 16, "refused": 5}}
    findings, _ = import_findings(result, 30)
    [finding] = [f for f in findings if f.rule == "sandbox.process-limit"]
    assert finding.severity == "block" and "sandbox.process-limit" in UNSUPPRESSIBLE
    assert "limit of 16 processes" in finding.message and "5 more were refused" in finding.message
    assert "top level" in finding.hint
    timeout, _ = import_findings({"status": "timeout", "processes": result["processes"]}, 30)
    assert {f.rule for f in timeout} == {"sandbox.process-limit", "sandbox.timeout"}
    within = {"limit": 16, "peak": 3, "refused": 0}
    assert process_limit_findings({"processes": within}, "x", "y") == []
    assert process_limit_findings({}, "x", "y") == []
