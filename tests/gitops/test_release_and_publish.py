from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from assistant.errors import GitError
from assistant.gitops import publish, release
from assistant.gitops.git import GitRemote
from tests.gitops.gitrepos import dag_source, git, make_remote


def _fetch(remote_url: str, cache: Path) -> str:
    return GitRemote(remote_url).fetch(cache, "branch", "main")


def test_release_exports_only_safe_files_under_the_dag_path(tmp_path: Path) -> None:
    remote = make_remote(tmp_path)
    (tmp_path / "outside.txt").write_text("secret outside")
    remote.commit(
        {
            "dags/a.py": dag_source("a"),
            "dags/sub/b.py": dag_source("b"),
            "dags/big.sql": "x" * 2000,
            "README.md": "not under the dag path",
        },
        push=False,
    )
    work = remote.work
    os.symlink("../../outside.txt", work / "dags" / "escape.py")
    os.symlink("/etc/passwd", work / "dags" / "absolute.py")
    os.symlink("a.py", work / "dags" / "alias.py")
    os.symlink("sub", work / "dags" / "subdir_link")
    git(work, "add", "-A")
    sub_sha = git(work, "rev-parse", "HEAD")
    git(work, "update-index", "--add", "--cacheinfo", f"160000,{sub_sha},dags/vendored")
    git(work, "commit", "-q", "-m", "links")
    git(work, "push", "-q", "origin", "main")

    cache = tmp_path / "cache"
    commit = _fetch(remote.url, cache)
    info = release.build_release(cache, tmp_path / "releases", "r", commit, "dags", max_file_bytes=1000)

    assert set(info.files) == {"a.py", "sub/b.py", "alias.py"}
    reasons = {s.path: s.reason for s in info.skipped}
    assert "outside" in reasons["escape.py"] and "outside" in reasons["absolute.py"]
    assert "submodule" in reasons["vendored"]
    assert "limit" in reasons["big.sql"]
    assert "directory" in reasons["subdir_link"]
    released = Path(info.path)
    assert (released / "alias.py").read_text() == dag_source("a") and not (released / "alias.py").is_symlink()
    assert not (released / "README.md").exists() and not (released / "escape.py").exists()
    assert release.verify_release(release.load_release(released)) == []  # type: ignore[arg-type]


def test_non_utf8_paths_are_reported_not_published(tmp_path: Path) -> None:
    remote = make_remote(tmp_path)
    remote.commit({"ok.py": dag_source("ok")}, push=False)
    raw_name = b"bad\xff.py"
    with open(os.path.join(os.fsencode(remote.work), raw_name), "w") as fh:
        fh.write("x = 1\n")
    git(remote.work, "add", "-A")
    git(remote.work, "commit", "-q", "-m", "bad name")
    git(remote.work, "push", "-q", "origin", "main")
    cache = tmp_path / "cache"
    info = release.build_release(cache, tmp_path / "rel", "r", _fetch(remote.url, cache), "")
    assert set(info.files) == {"ok.py"}
    assert [s.reason for s in info.skipped] == ["path is not UTF-8"]


def test_release_is_reused_and_old_ones_are_cleaned(tmp_path: Path) -> None:
    remote = make_remote(tmp_path)
    cache = tmp_path / "cache"
    commits = []
    for n in range(6):
        remote.commit({"d.py": dag_source("d", f"v{n}")})
        commits.append(_fetch(remote.url, cache))
        release.build_release(cache, tmp_path / "rel", "r", commits[-1], "")
    first = release.release_path(tmp_path / "rel", "r", commits[0])
    again = release.build_release(cache, tmp_path / "rel", "r", commits[-1], "")
    assert Path(again.path) == release.release_path(tmp_path / "rel", "r", commits[-1])
    (tmp_path / "rel" / "r" / ".tmp-leftover").mkdir()
    release.clean_releases(tmp_path / "rel", "r", keep={first})
    left = sorted(p.name for p in (tmp_path / "rel" / "r").iterdir())
    assert first.name in left and len(left) == release.KEEP_RELEASES and ".tmp-leftover" not in left


def test_publish_swaps_the_link_atomically_and_refuses_foreign_folders(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    one, two = tmp_path / "r1", tmp_path / "r2"
    one.mkdir(), two.mkdir()
    publish.publish(dags, "personal", "repo", one)
    assert publish.published_target(dags, "personal", "repo") == one.resolve()
    publish.publish(dags, "personal", "repo", two)
    assert publish.published_target(dags, "personal", "repo") == two.resolve()
    assert sorted(p.name for p in (dags / "personal").iterdir()) == [".airflowignore", "repo"]
    assert publish.SWAP_PREFIX in (dags / "personal" / ".airflowignore").read_text()
    (dags / "personal" / "manual").mkdir()
    with pytest.raises(GitError, match="not created by the assistant"):
        publish.publish(dags, "personal", "manual", one)
    assert publish.unpublish(dags, "personal", "repo")
    assert not (dags / "personal" / "repo").exists() and one.exists()


def test_git_errors_are_translated_without_secrets(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="no repository at"):
        GitRemote((tmp_path / "missing.git").as_uri(), retries=1).ls_remote()
    empty = tmp_path / "empty.git"
    subprocess.run(["git", "init", "-q", "--bare", str(empty)], check=True)
    with pytest.raises(GitError, match="empty"):
        GitRemote(empty.as_uri()).resolve("branch", "")
