"""The `photosync` command: the local server and its database, and (from `client_commands`) the
client that backs up, browses and frees up space."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from photosync.cli import client_commands

app = typer.Typer(
    name="photosync",
    help="PhotoSync: personal photo backup. Run a server with `photosync serve`, then back up with `photosync backup`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    data_dir: Path = typer.Option(Path("./photosync-data"), help="Where photos, the database and keys are kept."),
    allow_dev_login: bool = typer.Option(
        False, help="Allow the password-less dev sign-in on a non-loopback address (anyone who can reach it can sign in)."
    ),
    mobile_web_dir: Optional[Path] = typer.Option(
        None,
        exists=True, file_okay=False, dir_okay=True, resolve_path=True,
        help="Also serve the phone app's web build (`expo export --platform web` in mobile/, e.g. mobile/dist) at /app/.",
    ),
) -> None:
    """Run PhotoSync on this machine: API, storage, sign-in and the web app."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from photosync.config import ConfigError
    from photosync.local.postgres import PostgresError
    from photosync.local.server import ServeOptions
    from photosync.local.server import serve as run_server

    def announce(public_url: str, dev_login_allowed: bool) -> None:
        console.print(f"[bold green]PhotoSync is running[/] at [link={public_url}]{public_url}[/]  (data: {data_dir})")
        if dev_login_allowed and not allow_dev_login:
            console.print("Sign in with any email address (dev sign-in, loopback only). Stop with Ctrl+C.")
        elif allow_dev_login:
            console.print("[bold yellow]Warning:[/] the dev sign-in is open to anyone who can reach this address.")

    try:
        run_server(
            ServeOptions(
                host=host, port=port, data_dir=data_dir, allow_dev_login=allow_dev_login, mobile_web_dir=mobile_web_dir
            ),
            on_ready=announce,
        )
    except (ConfigError, PostgresError) as error:
        console.print(f"[bold red]Cannot start:[/] {error}")
        raise typer.Exit(2) from None


@app.command()
def migrate(
    data_dir: Path = typer.Option(
        Path("./photosync-data"), help="Data directory whose private PostgreSQL to migrate when DATABASE_URL is unset."
    ),
) -> None:
    """Apply the database migrations (idempotent)."""
    from photosync.adapters.postgres.migrations import apply_migrations
    from photosync.local.postgres import PostgresError, PrivatePostgres

    import psycopg

    postgres = None
    try:
        url = os.environ.get("DATABASE_URL")
        if not url:
            postgres = PrivatePostgres(data_dir.resolve() / "postgres")
            url = postgres.start()
        with psycopg.connect(url, autocommit=True) as conn:
            applied = apply_migrations(conn)
    except (PostgresError, psycopg.OperationalError) as error:
        console.print(f"[bold red]Cannot migrate:[/] {error}")
        raise typer.Exit(2) from None
    finally:
        if postgres is not None:
            postgres.stop()
    console.print(f"Applied: {', '.join(applied)}" if applied else "The database is up to date.")


client_commands.register(app)
