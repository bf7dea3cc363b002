"""`cryptopulse serve` and `cryptopulse api-key create|list|revoke`: argument parsing and printing only.

Imported by the main command line, so nothing heavy here: FastAPI and uvicorn load only when `serve` runs.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from cryptopulse.interval import IntervalError
from cryptopulse.lake import Lake

ConfigOpt = Annotated[str | None, typer.Option("--config", help="TOML settings file (default: ./cryptopulse.toml if present).")]
LakeOpt = Annotated[str | None, typer.Option("--lake", help="Lake root (default: $CRYPTOPULSE_LAKE or ./data/lake).")]

keys_app = typer.Typer(no_args_is_help=True, help="API keys for `cryptopulse serve`, stored hashed in the lake (ops/api_keys.json).")


def register(app: typer.Typer) -> None:
    """Add `serve` and `api-key` to the main command line."""
    app.command("serve")(serve)
    app.add_typer(keys_app, name="api-key")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (about one per core).")] = 1,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log", help="Log every request (never its key).")] = True,
    config: ConfigOpt = None,
    lake: LakeOpt = None,
) -> None:
    """The read API over the published version (OpenAPI at /docs); settings from CRYPTOPULSE_API_* (docs/SERVING.md)."""
    from cryptopulse.api.settings import load_api_settings
    from cryptopulse.cli import settings_from, user_errors

    with user_errors():
        settings = settings_from(config, lake)
        load_api_settings()  # fail here, in one line, rather than in every worker
        if workers < 1 or not 0 < port < 65536:
            raise IntervalError(f"--workers must be at least 1 and --port within 1–65535 (got {workers}, {port})")
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
    from cryptopulse.cli import settings_from, user_errors

    with user_errors():
        key, secret = create_key(Lake(settings_from(config, lake).lake), name)
    typer.echo(secret)
    typer.echo(f"created key {key.key_id} for {key.name}: shown once, store it now (send it as X-API-Key)", err=True)


@keys_app.command("list")
def list_cmd(config: ConfigOpt = None, lake: LakeOpt = None) -> None:
    """The keys: id, name, created, revoked (never their secrets)."""
    from cryptopulse.api.keys import list_keys
    from cryptopulse.cli import settings_from, user_errors

    with user_errors():
        keys = list_keys(Lake(settings_from(config, lake).lake))
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
    from cryptopulse.cli import settings_from, user_errors

    with user_errors():
        key = revoke_key(Lake(settings_from(config, lake).lake), name)
    typer.echo(f"revoked key {key.key_id} ({key.name})")
