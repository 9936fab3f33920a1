"""Turn what the user typed into a checked :class:`RepoSpec` (bad input fails here, before git)."""

from __future__ import annotations

import re

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
) -> RepoSpec:
    url = check_url(url)
    name = check_repo_name(name or default_name(url))
    if namespace not in NAMESPACES:
        raise UsageError(f"unknown namespace {namespace!r}", f"use one of {', '.join(NAMESPACES)}")
    chosen = [(kind, value) for kind, value in (("branch", branch), ("tag", tag), ("sha", ref)) if value]
    if len(chosen) > 1:
        raise UsageError("give at most one of --branch, --tag and --ref", "a repo tracks one ref")
    ref_kind, ref_value = chosen[0] if chosen else ("branch", "")
    if ref_kind == "sha":
        ref_value = ref_value.lower()
        if not _SHA.match(ref_value):
            raise UsageError(
                f"--ref {ref_value!r} is not a full commit sha", "pass the 40-hex-digit commit id"
            )
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
    )


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
