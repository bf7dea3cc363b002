"""`cryptopulse serve` and `cryptopulse api-key create|list|revoke`: argument parsing and printing only.

Imported by the main command line, so nothing heavy here: FastAPI and uvicorn load only when `serve` runs.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from cryptopulse.cli_support import ConfigOpt, HostOpt, LakeOpt, PortOpt, at_least, check_port, lake_from, settings_from, user_errors

keys_app = typer.Typer(no_args_is_help=True, help="API keys for `cryptopulse serve`, stored hashed in the lake (ops/api_keys.json).")


def register(app: typer.Typer) -> None:
    """Add `serve` and `api-key` to the main command line."""
    app.command("serve")(serve)
    app.add_typer(keys_app, name="api-key")


def serve(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (about one per core).")] = 1,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log", help="Log every request (never its key).")] = True,
    config: ConfigOpt = None,
    lake: LakeOpt = None,
) -> None:
    """The read API over the published version (OpenAPI at /docs); settings from CRYPTOPULSE_API_* (docs/SERVING.md)."""
    from cryptopulse.api.settings import load_api_settings

    with user_errors():
        settings = settings_from(config, lake)
        load_api_settings()  # fail here, in one line, rather than in every worker
        at_least(workers, 1, "--workers")
        check_port(port)
        import uvicorn  # inside the handler: a missing api extra is one line naming it

    # Workers are fresh processes that build the app from the environment: hand them the resolved settings.
    os.environ.update({"CRYPTOPULSE_LAKE": settings.lake, "CRYPTOPULSE_FRESHNESS_HOURS": str(settings.freshness_hours)})
    typer.echo(f"serving {settings.lake} on http://{host}:{port} (docs: /docs) with {workers} worker(s)")
    uvicorn.run("cryptopulse.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                access_log=access_log, log_level="info", server_header=False,
                timeout_keep_alive=30,  # longer than a client's pause between requests: no reuse of a closing connection
                timeout_worker_healthcheck=60)  # a worker still importing on a busy host is not dead


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Who the key is for (letters, digits, _ . @ -).")],
    config: ConfigOpt = None,
    lake: LakeOpt = None,
) -> None:
    """Create a key and print its secret once (only its hash is kept)."""
    from cryptopulse.api.keys import create_key

    with user_errors():
        key, secret = create_key(lake_from(config, lake), name)
    typer.echo(secret)
    typer.echo(f"created key {key.key_id} for {key.name}: shown once, store it now (send it as X-API-Key)", err=True)


@keys_app.command("list")
def list_cmd(config: ConfigOpt = None, lake: LakeOpt = None) -> None:
    """The keys: id, name, created, revoked (never their secrets)."""
    from cryptopulse.api.keys import list_keys

    with user_errors():
        keys = list_keys(lake_from(config, lake))
    for key in keys:
        state = f"revoked {key.revoked_at}" if key.revoked_at else "active"
        typer.echo(f"{key.key_id}  {key.name:<24} created {key.created_at}  {state}")
    if not keys:
        typer.echo("no keys yet: `cryptopulse api-key create NAME`")


@keys_app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="The key's name or id.")],
    config: ConfigOpt = None,
    lake: LakeOpt = None,
) -> None:
    """Revoke a key: the API refuses it within CRYPTOPULSE_API_KEY_REFRESH seconds (default 5)."""
    from cryptopulse.api.keys import revoke_key

    with user_errors():
        key = revoke_key(lake_from(config, lake), name)
    typer.echo(f"revoked key {key.key_id} ({key.name})")
