"""The `photosync` command: the local server and its database, and (from `client_commands`) the
client that backs up, browses and frees up space."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from photosync.cli import admin_commands, client_commands

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
        False,
        envvar="PHOTOSYNC_ALLOW_DEV_LOGIN",
        help="Answer the password-less dev sign-in at any address, also on a non-loopback --host or a published "
        "PHOTOSYNC_PUBLIC_URL: anyone who can reach the server can then sign in as anyone.",
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
    from photosync.local.sign_in import DevSignIn

    def announce(public_url: str, dev_sign_in: DevSignIn) -> None:
        console.print(f"[bold green]PhotoSync is running[/] at [link={public_url}]{public_url}[/]  (data: {data_dir})")
        if dev_sign_in.any_address:
            console.print("[bold yellow]Warning:[/] the dev sign-in is open to anyone who can reach this server.")
        elif dev_sign_in.allowed:
            console.print("Sign in with any email address (dev sign-in, on this machine only). Stop with Ctrl+C.")
        else:
            console.print(
                f"The dev sign-in is off: {dev_sign_in.turned_off_because}. "
                "Use --allow-dev-login only if everyone who can reach it may sign in as anyone."
            )

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
        # A server already running for this data directory belongs to whoever started it (a running
        # `photosync serve`): only one this command started is stopped.
        if postgres is not None and postgres.started_server:
            postgres.stop()
    console.print(f"Applied: {', '.join(applied)}" if applied else "The database is up to date.")


client_commands.register(app)
app.add_typer(admin_commands.app, name="admin")
