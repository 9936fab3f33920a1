from __future__ import annotations

import pytest

from assistant.errors import UsageError
from assistant.gitops.spec import check_dag_path, make_spec
from assistant.gitops.urls import check_url, default_name, normalise, redact


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/dags.git",
        "ssh://git@github.com/acme/dags.git",
        "git@github.com:acme/dags.git",
        "file:///srv/git/dags.git",
    ],
)
def test_accepted_urls(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize("url", ["", "not a url", "ftp://host/x", "https:///nohost", "/just/a/path"])
def test_malformed_urls(url: str) -> None:
    with pytest.raises(UsageError):
        check_url(url)


def test_credentials_in_urls_are_refused_and_never_echoed() -> None:
    with pytest.raises(UsageError) as err:
        check_url("https://bob:hunter2@github.com/acme/dags.git")
    assert "hunter2" not in str(err.value)
    assert redact("https://bob:hunter2@github.com/a/b.git") == "https://github.com/a/b.git"


def test_normalise_matches_the_forms_a_provider_sends() -> None:
    keys = {
        normalise(u)
        for u in (
            "https://github.com/Acme/Dags.git",
            "git@github.com:acme/dags.git",
            "ssh://git@github.com/acme/dags",
            "https://github.com/acme/dags/",
        )
    }
    assert keys == {"github.com/acme/dags"}
    assert default_name("git@github.com:acme/team-dags.git") == "team-dags"


def test_spec_defaults_and_exclusive_refs() -> None:
    spec = make_spec("https://github.com/acme/dags.git")
    assert (spec.name, spec.namespace, spec.ref_kind, spec.ref) == ("dags", "personal", "branch", "")
    with pytest.raises(UsageError, match="at most one"):
        make_spec("https://github.com/acme/dags.git", branch="main", tag="v1")
    with pytest.raises(UsageError, match="full commit sha"):
        make_spec("https://github.com/acme/dags.git", ref="abc123")
    with pytest.raises(UsageError, match="namespace"):
        make_spec("https://github.com/acme/dags.git", namespace="public")
    with pytest.raises(UsageError, match="invalid repository name"):
        make_spec("https://github.com/acme/dags.git", name="../x")


def test_dag_path_stays_inside_the_repository() -> None:
    assert check_dag_path("dags/") == "dags"
    assert check_dag_path("./a/b") == "a/b"
    for bad in ("../up", "/abs", "a/../../b", "caf\udce9"):
        with pytest.raises(UsageError):
            check_dag_path(bad)
