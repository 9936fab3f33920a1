"""Turn what the user typed into a checked :class:`RepoSpec` (bad input fails here, before git)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assistant.errors import UsageError
from assistant.gitops.models import NAMESPACES, RepoSpec
from assistant.gitops.urls import check_repo_name, check_url, default_name

_SHA = re.compile(r"^[0-9a-f]{40}$")


def make_spec(
    url: str,
    *,
    name: str | None = None,
    namespace: str = "personal",
    branch: str | None = None,
    tag: str | None = None,
    ref: str | None = None,
    path: str = "",
    credential: str | None = None,
    webhook_credential: str | None = None,
    unpause: bool = False,
    policy_file: Path | None = None,
) -> RepoSpec:
    url = check_url(url)
    name = check_repo_name(name or default_name(url))
    check_namespace(namespace)
    ref_kind, ref_value = check_ref(branch, tag, ref) or ("branch", "")
    return RepoSpec(
        name=name,
        url=url,
        namespace=namespace,
        ref_kind=ref_kind,
        ref=ref_value,
        dag_path=check_dag_path(path),
        credential=credential,
        webhook_credential=webhook_credential,
        unpause=unpause,
        policy_toml=_policy_text(policy_file),
    )


# The options of `repo set`, as the user types them (the hint of "nothing to change" lists them).
SET_OPTIONS = (
    "--url",
    "--branch",
    "--tag",
    "--ref",
    "--path",
    "--namespace",
    "--credential/--no-credential",
    "--webhook-credential/--no-webhook-credential",
    "--unpause/--no-unpause",
    "--policy FILE/--no-policy",
)


def make_changes(
    *,
    url: str | None = None,
    namespace: str | None = None,
    branch: str | None = None,
    tag: str | None = None,
    ref: str | None = None,
    path: str | None = None,
    credential: str | None = None,
    no_credential: bool = False,
    webhook_credential: str | None = None,
    no_webhook_credential: bool = False,
    unpause: bool | None = None,
    policy_file: Path | None = None,
    no_policy: bool = False,
) -> dict[str, Any]:
    """The settings `repo set` was asked to change: RepoSpec field -> new value (checked)."""
    changes: dict[str, Any] = {}
    if url is not None:
        changes["url"] = check_url(url)
    if namespace is not None:
        changes["namespace"] = check_namespace(namespace)
    for flag, value in (("--branch", branch), ("--tag", tag), ("--ref", ref)):
        if value is not None and not value.strip():
            raise UsageError(f"{flag} needs a value", "give the branch, tag or commit sha to track")
    chosen = check_ref(branch, tag, ref)
    if chosen:
        changes["ref_kind"], changes["ref"] = chosen
    if path is not None:
        changes["dag_path"] = check_dag_path(path)
    changes.update(_either("credential", credential, no_credential))
    changes.update(_either("webhook_credential", webhook_credential, no_webhook_credential))
    if unpause is not None:
        changes["unpause"] = unpause
    if policy_file is not None and no_policy:
        raise UsageError(
            "give --policy FILE or --no-policy, not both", "--no-policy drops the policy set before"
        )
    if policy_file is not None:
        changes["policy_toml"] = _policy_text(policy_file)
    elif no_policy:
        changes["policy_toml"] = None
    if not changes:
        raise UsageError("nothing to change", f"give at least one of {', '.join(SET_OPTIONS)}")
    return changes


def check_namespace(namespace: str) -> str:
    if namespace not in NAMESPACES:
        raise UsageError(f"unknown namespace {namespace!r}", f"use one of {', '.join(NAMESPACES)}")
    return namespace


def check_ref(branch: str | None, tag: str | None, ref: str | None) -> tuple[str, str] | None:
    """(ref_kind, ref) of the one ref given, or None when none was."""
    chosen = [(kind, value) for kind, value in (("branch", branch), ("tag", tag), ("sha", ref)) if value]
    if len(chosen) > 1:
        raise UsageError("give at most one of --branch, --tag and --ref", "a repo tracks one ref")
    if not chosen:
        return None
    ref_kind, ref_value = chosen[0]
    if ref_kind == "sha":
        ref_value = ref_value.lower()
        if not _SHA.match(ref_value):
            raise UsageError(
                f"--ref {ref_value!r} is not a full commit sha", "pass the 40-hex-digit commit id"
            )
    return ref_kind, ref_value.strip()


def _either(field: str, value: str | None, clear: bool) -> dict[str, Any]:
    flag = "--" + field.replace("_", "-")
    if value is not None and clear:
        raise UsageError(f"give {flag} NAME or --no-{flag[2:]}, not both", f"--no-{flag[2:]} removes it")
    if clear:
        return {field: None}
    if value is not None:
        if not value.strip():
            raise UsageError(f"{flag} needs a credential name", "see `assistant cred list`")
        return {field: value.strip()}
    return {}


def _policy_text(policy_file: Path | None) -> str | None:
    if policy_file is None:
        return None
    from assistant.gitops.policies import read_policy_file

    return read_policy_file(policy_file)


def check_dag_path(path: str) -> str:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(
            "the --path is not valid UTF-8", "rename the folder or pass its UTF-8 name"
        ) from None
    cleaned = path.strip().strip("/")
    parts = [p for p in cleaned.split("/") if p not in ("", ".")]
    if path.strip().startswith("/") or ".." in parts or "\\" in cleaned:
        raise UsageError(f"--path {path!r} must be a folder inside the repository", "for example --path dags")
    return "/".join(parts)
