"""Commands over Git repositories, credentials and the `serve` process."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from assistant.cli import output
from assistant.errors import UsageError

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
no_wait_option = click.option("--no-wait", is_flag=True, help="Do not wait for Airflow to show the DAGs.")
NAMESPACE_CHOICE = click.Choice(["company", "community", "personal"])


def _policy_option(help_text: str) -> Any:
    return click.option(
        "--policy", "policy_file", type=click.Path(path_type=Path, dir_okay=False), help=help_text
    )


def _print_outcome(outcome: Any, as_json: bool) -> None:
    if as_json:
        output.print_json(outcome)
        return
    click.echo(f"{outcome.repo}: {outcome.result} - {outcome.message}")
    if outcome.policy and outcome.result != "unchanged":
        click.echo(f"  policy: {outcome.policy}")
    for skipped in outcome.skipped:
        click.echo(f"  not published: {skipped.path} ({skipped.reason})")
    _print_dags(outcome.dags)


def _print_dags(dags: list[Any]) -> None:
    if dags:
        rows = [(d.dag_id, d.file, d.state, d.detail) for d in dags]
        output.console().print(output.table(None, ["dag", "file", "state", ""], rows))


def _exit_for(outcomes: list[Any]) -> None:
    if any(not o.ok for o in outcomes):
        sys.exit(1)


@click.group()
def repo() -> None:
    """Git repositories of DAGs: `git push` is the deployment."""


@repo.command("add")
@click.argument("url")
@click.option("--name", help="Name of the repo (default: from the URL).")
@click.option("--namespace", type=NAMESPACE_CHOICE, default="personal", show_default=True)
@click.option("--branch", help="Branch to track (default: the remote's default branch).")
@click.option("--tag", help="Tag to deploy.")
@click.option("--ref", help="Commit sha to pin.")
@click.option("--path", "dag_path", default="", help="Folder of the DAGs inside the repo (default: root).")
@click.option("--credential", help="Stored credential for fetching (see `assistant cred set`).")
@click.option("--webhook-credential", help="Stored credential holding this repo's webhook secret.")
@click.option("--unpause", is_flag=True, help="Unpause the DAGs this repo brings.")
@_policy_option(
    "Validation policy TOML for this repo (stored as a copy; default: the repo's .assistant/policy.toml)."
)
@no_wait_option
@json_option
@click.pass_context
def repo_add(ctx: click.Context, url: str, no_wait: bool, as_json: bool, **options: Any) -> None:
    """Register URL: clone, validate, deploy, and list the DAGs it brought."""
    outcome = ctx.obj.assistant.repo_add(url, wait=not no_wait, path=options.pop("dag_path"), **options)
    _print_outcome(outcome, as_json)
    _exit_for([outcome])


@repo.command("list")
@json_option
@click.pass_context
def repo_list(ctx: click.Context, as_json: bool) -> None:
    """Registered repos: url, namespace, ref, deployed commit, last sync, state."""
    from assistant.gitops.urls import redact

    repos = ctx.obj.assistant.repos()
    if as_json:
        output.print_json([_repo_json(r, redact(r.url)) for r in repos])
        return
    rows = [
        (
            r.name,
            redact(r.url),
            r.namespace,
            f"{r.ref_kind} {r.ref}",
            (r.deployed_commit or "-")[:10],
            (r.last_sync_at or "-")[:19].replace("T", " "),
            r.display_state,
            _policy_cell(r),
            r.state_detail[:80],
        )
        for r in repos
    ]
    headers = ["name", "url", "namespace", "ref", "deployed", "last sync", "state", "policy", "detail"]
    output.console().print(output.table(f"{len(repos)} repos", headers, rows))


def _repo_json(repo: Any, url: str) -> dict[str, Any]:
    data = {k: v for k, v in output.to_jsonable(repo).items() if k != "policy_toml"}
    data.update(url=url, state=repo.display_state, policy_set=repo.policy_toml is not None)
    return data


def _policy_cell(repo: Any) -> str:
    """The policy that validated the deployed release, and one set since that applies next."""
    used = repo.policy_used or "-"
    if repo.policy_toml is not None and used != "repo set":
        return f"{used} (next: repo set)"
    if repo.policy_toml is None and used == "repo set":
        return f"{used} (next: the repo's file or default)"
    return used


@repo.command("set")
@click.argument("name")
@click.option("--url", help="New URL of the repository (same forms as `repo add`).")
@click.option("--branch", help="Track this branch.")
@click.option("--tag", help="Deploy this tag.")
@click.option("--ref", help="Pin this commit sha.")
@click.option("--path", "path", help="Folder of the DAGs inside the repo ('.' for the root).")
@click.option("--namespace", type=NAMESPACE_CHOICE, help="Move the DAGs to this namespace.")
@click.option("--credential", help="Stored credential for fetching.")
@click.option("--no-credential", is_flag=True, help="Fetch without a credential.")
@click.option("--webhook-credential", help="Stored credential holding the webhook secret.")
@click.option("--no-webhook-credential", is_flag=True, help="Refuse webhooks for this repo.")
@click.option("--unpause/--no-unpause", default=None, help="Unpause DAGs new in later deployments.")
@_policy_option("Validation policy TOML for this repo (stored as a copy).")
@click.option("--no-policy", is_flag=True, help="Drop the policy set for this repo.")
@no_wait_option
@json_option
@click.pass_context
def repo_set(ctx: click.Context, name: str, no_wait: bool, as_json: bool, **options: Any) -> None:
    """Change settings of NAME in place; a new URL, ref or path is validated and deployed like a push."""
    outcome = ctx.obj.assistant.repo_set(name, wait=not no_wait, **options)
    if as_json:
        output.print_json({**output.to_jsonable(outcome), "ok": outcome.ok})
    else:
        click.echo(outcome.message)
        if outcome.deployment is not None:
            _print_outcome(outcome.deployment, False)
        _print_dags(outcome.dags)
    _exit_for([outcome])


@repo.command("sync")
@click.argument("name", required=False)
@click.option("--force", is_flag=True, help="Validate and publish the newest commit even if it is deployed.")
@no_wait_option
@json_option
@click.pass_context
def repo_sync(ctx: click.Context, name: str | None, force: bool, no_wait: bool, as_json: bool) -> None:
    """Deploy the newest commit of NAME (default: every repo)."""
    outcomes = ctx.obj.assistant.repo_sync(name, wait=not no_wait, force=force)
    if as_json:
        output.print_json(outcomes)
    else:
        for outcome in outcomes:
            _print_outcome(outcome, False)
    _exit_for(outcomes)


@repo.command("remove")
@click.argument("name")
@click.pass_context
def repo_remove(ctx: click.Context, name: str) -> None:
    """Unregister NAME: its DAGs leave Airflow, nothing else does."""
    removed = ctx.obj.assistant.repo_remove(name)
    click.echo(f"removed {name}; its DAGs leave Airflow ({removed.namespace}/{name})")


@repo.command("history")
@click.argument("name")
@click.option("--limit", type=int, default=20, show_default=True)
@json_option
@click.pass_context
def repo_history(ctx: click.Context, name: str, limit: int, as_json: bool) -> None:
    """Deployments of NAME: commit, time, result."""
    found = ctx.obj.assistant.repo_history(name, limit)
    if as_json:
        output.print_json(
            [{k: v for k, v in output.to_jsonable(d).items() if k != "validation"} for d in found]
        )
        return
    rows = [
        (
            d.id,
            d.commit_sha[:10],
            d.started_at[:19].replace("T", " "),
            d.result + (" (rollback)" * d.is_rollback),
            d.policy or "-",
            d.summary[:100],
        )
        for d in found
    ]
    headers = ["#", "commit", "at", "result", "policy", ""]
    output.console().print(output.table(f"{name}: {len(found)} deployments", headers, rows))


@repo.command("rollback")
@click.argument("name")
@click.option(
    "--to", "to_commit", help="Commit (or prefix) of a good deployment (default: the previous one)."
)
@no_wait_option
@json_option
@click.pass_context
def repo_rollback(ctx: click.Context, name: str, to_commit: str | None, no_wait: bool, as_json: bool) -> None:
    """Republish a recorded good release of NAME atomically."""
    outcome = ctx.obj.assistant.repo_rollback(name, to_commit, wait=not no_wait)
    _print_outcome(outcome, as_json)
    _exit_for([outcome])


@click.group()
def cred() -> None:
    """Credentials for Git (encrypted at rest; never shown)."""


def _read_secret(prompt: str) -> str:
    if sys.stdin.isatty():
        return click.prompt(prompt, hide_input=True)
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise UsageError(
            "no secret on standard input", "pipe it in, e.g. `printenv TOKEN | assistant cred set ...`"
        )
    return value


@cred.command("set")
@click.argument("name")
@click.option("--token", "kind", flag_value="token", help="An HTTPS token (read from the prompt or stdin).")
@click.option(
    "--ssh-key", "ssh_key", type=click.Path(dir_okay=False, path_type=Path), help="A private key file."
)
@click.option("--username", help="HTTPS username; the password is read from the prompt or stdin.")
@click.pass_context
def cred_set(
    ctx: click.Context, name: str, kind: str | None, ssh_key: Path | None, username: str | None
) -> None:
    """Store credential NAME (the secret is never taken from the command line)."""
    if sum(bool(x) for x in (kind, ssh_key, username)) != 1:
        raise UsageError(
            "give exactly one of --token, --ssh-key FILE and --username USER", "see `cred set --help`"
        )
    if ssh_key is not None:
        try:
            secret = ssh_key.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(
                f"cannot read the key file {ssh_key}: {exc}", "pass a readable private key file"
            ) from None
        if "PRIVATE KEY" not in secret:
            raise UsageError(f"{ssh_key} is not a private key", "pass the private key (not the .pub file)")
        ctx.obj.assistant.cred_set(name, "ssh_key", secret)
    elif username:
        ctx.obj.assistant.cred_set(name, "basic", _read_secret("Password"), username)
    else:
        ctx.obj.assistant.cred_set(name, "token", _read_secret("Token"))
    click.echo(f"stored credential {name}")


@cred.command("list")
@json_option
@click.pass_context
def cred_list(ctx: click.Context, as_json: bool) -> None:
    """Names (and kinds) of the stored credentials; never their values."""
    found = ctx.obj.assistant.creds()
    if as_json:
        output.print_json([{"name": n, "kind": k} for n, k in found])
        return
    output.console().print(output.table(f"{len(found)} credentials", ["name", "kind"], found))


@cred.command("remove")
@click.argument("name")
@click.pass_context
def cred_remove(ctx: click.Context, name: str) -> None:
    """Delete credential NAME."""
    ctx.obj.assistant.cred_remove(name)
    click.echo(f"removed credential {name}")


@click.command()
@click.option("--host", help="Address to listen on (default: ASSISTANT_SERVE_HOST, loopback).")
@click.option("--port", type=int, help="Port (default: ASSISTANT_SERVE_PORT).")
@click.option("--poll-interval", type=float, help="Seconds between remote checks; 0 disables polling.")
@click.option("--no-webhooks", is_flag=True, help="Poll only; no HTTP server (no webhooks, API or web chat).")
@click.option("--show-token", is_flag=True, help="Print the API token (generating it if needed) and exit.")
@click.pass_context
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    poll_interval: float | None,
    no_webhooks: bool,
    show_token: bool,
) -> None:
    """Receive webhooks, poll the repos and deploy what changes; serve the web chat and REST API."""
    if show_token:
        from assistant.web.auth import ensure_token

        token = ensure_token(ctx.obj.assistant.config)
        click.echo(token.value)
        click.echo(f"({token.where()})" if token.path is None else f"(kept in {token.path})", err=True)
        return
    from assistant.web.server import serve as run_server

    run_server(
        ctx.obj.assistant, host=host, port=port, poll_interval_s=poll_interval, webhooks=not no_webhooks
    )


COMMANDS = [repo, cred, serve]
