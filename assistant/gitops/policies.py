"""Which validation policy a deployment uses: the one set for the repo (`repo set --policy`), else
the repo's own ``.assistant/policy.toml`` read from the commit being deployed, else the default.

A committed policy is written by whoever can push, so it may relax the house rules (``policy.*``)
but not the other checks: in ``[severity]`` any other rule may only be made ``block``, and
``[limits]`` may not go above the defaults. A policy set with `repo set` is the operator's choice
and may change anything, like `assistant validate --policy`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.errors import UsageError, ValidationFailed
from assistant.gitops.git import TreeReader
from assistant.validation.policy import Policy, parse_policy, read_policy_text

REPO_POLICY_FILE = ".assistant/policy.toml"
MAX_POLICY_BYTES = 64 * 1024
LIMIT_KEYS = ("max_file_kb", "timeout_s", "cpu_s", "memory_mb", "run_timeout_s", "max_processes")

DEFAULT_LABEL = "default"
SET_LABEL = "repo set"
FILE_LABEL = REPO_POLICY_FILE


@dataclass(frozen=True)
class ChosenPolicy:
    policy: Policy | None  # None: the pipeline's default
    label: str  # DEFAULT_LABEL, SET_LABEL or FILE_LABEL


def read_policy_file(path: Path) -> str:
    """The TOML of a policy file for `repo add/set --policy` (checked now, stored as a copy)."""
    text = read_policy_text(path)
    if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        raise UsageError(f"policy file {path} is over {MAX_POLICY_BYTES // 1024} KiB", "is it a policy file?")
    parse_policy(text, f"policy file {path}")
    return text


def choose_policy(explicit_toml: str | None, cache: Path, commit: str) -> ChosenPolicy:
    """The policy for deploying ``commit`` (in the bare ``cache``); a broken committed policy file
    raises ValidationFailed, so that commit is not deployed."""
    if explicit_toml is not None:
        try:
            return ChosenPolicy(parse_policy(explicit_toml, "the policy set for this repository"), SET_LABEL)
        except UsageError as exc:
            raise ValidationFailed(
                f"the policy set for this repository is no longer valid: {exc.message}",
                "set it again with `assistant repo set NAME --policy FILE` (or --no-policy)",
            ) from None
    text = committed_policy_text(cache, commit)
    if text is None:
        return ChosenPolicy(None, DEFAULT_LABEL)
    return ChosenPolicy(parse_committed(text, commit), FILE_LABEL)


def committed_policy_text(cache: Path, commit: str) -> str | None:
    """The repo's ``.assistant/policy.toml`` at ``commit``, or None when there is none."""
    with TreeReader(cache) as reader:
        entries = list(reader.entries(commit, REPO_POLICY_FILE))
        exact = [e for e in entries if e.path == REPO_POLICY_FILE.encode()]
        if not exact:
            if entries:  # a folder of that name
                raise _broken(commit, "it is a folder, not a file")
            return None
        entry = exact[0]
        if entry.kind != "blob" or entry.mode == "120000":
            raise _broken(commit, "it is not a regular file")
        if (entry.size or 0) > MAX_POLICY_BYTES:
            raise _broken(commit, f"it is over {MAX_POLICY_BYTES // 1024} KiB")
        data = reader.blob(entry.sha)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _broken(commit, "it is not UTF-8 text") from None


def parse_committed(text: str, commit: str) -> Policy:
    """Parse a committed policy and refuse what a committed policy may not relax."""
    try:
        policy = parse_policy(text, REPO_POLICY_FILE)
    except UsageError as exc:
        raise _broken(commit, f"{exc.message} ({exc.hint})") from None
    problems = relaxations(policy)
    if problems:
        raise ValidationFailed(
            f"{commit[:10]}: {REPO_POLICY_FILE} may not relax checks other than the house rules: "
            + "; ".join(problems[:5]),
            f"make them stricter or remove them from {REPO_POLICY_FILE}; an operator can relax them "
            "for this repository with `assistant repo set NAME --policy FILE`",
        )
    return policy


def relaxations(policy: Policy) -> list[str]:
    """What ``policy`` relaxes beyond what a committed policy may."""
    default = Policy()
    found = [
        f"[severity] {rule!r} = {level!r} (only 'block' is allowed for it)"
        for rule, level in sorted(policy.severity.items())
        if not rule.startswith("policy.") and level != "block"
    ]
    for key in LIMIT_KEYS:
        value, limit = getattr(policy, key), getattr(default, key)
        if value > limit:
            found.append(f"[limits] {key} = {value} (above the default {limit:g})")
    return found


def _broken(commit: str, why: str) -> ValidationFailed:
    return ValidationFailed(
        f"{commit[:10]}: the repository's policy file {REPO_POLICY_FILE} is broken: {why}",
        f"fix {REPO_POLICY_FILE} (see `assistant validate --policy`) and push again; "
        "the last good release stays deployed",
    )
