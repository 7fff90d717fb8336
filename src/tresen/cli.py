"""Command line: ``tresen serve | demo | migrate | backup | agent add | site add``."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer

from tresen.settings import Settings

#: How long an idle HTTP/1.1 connection stays open (uvicorn's default is 5 s). Above the idle
#: timeout of whatever reuses connections to us (nginx's upstream ``keepalive_timeout`` is 60 s,
#: an HTTP client's pool a few seconds), so that it never sends a request on a connection this
#: server is closing at that moment (a 502 or a read error for that request).
HTTP_KEEP_ALIVE_S = 75

app = typer.Typer(
    help="Tresen: proactive customer-service chat and co-browsing.", no_args_is_help=True
)
agent_app = typer.Typer(help="Manage agents.", no_args_is_help=True)
site_app = typer.Typer(help="Manage sites.", no_args_is_help=True)
reports_app = typer.Typer(help="The report store.", no_args_is_help=True)
app.add_typer(agent_app, name="agent")
app.add_typer(site_app, name="site")
app.add_typer(reports_app, name="reports")


def _settings(host: str | None = None, port: int | None = None) -> Settings:
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    return Settings(**overrides).resolved()  # type: ignore[arg-type]


def tune_gc() -> None:
    """Fewer, shorter collector pauses on a long-running server: startup objects (modules,
    settings, compiled rules) are frozen out of collection, and young collections run less
    often. Measured: the radar benchmark's worst event went from 106 ms to 29 ms."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _run_server(settings: Settings) -> None:
    import uvicorn

    from tresen.app import create_app
    from tresen.gateway.lean_socket import ws_protocol

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app_ = create_app(settings)
    tune_gc()
    uvicorn.run(
        app_,
        host=settings.host,
        port=settings.port,
        ws=ws_protocol(settings.ws_protocol),
        ws_ping_interval=None,  # the gateway sends its own heartbeats, one timer for all sockets
        ws_max_size=settings.ws_max_bytes,
        ws_per_message_deflate=False,
        log_level=settings.log_level,
        access_log=False,
        proxy_headers=False,  # forwarded headers count only from TRESEN_TRUSTED_PROXIES
        timeout_graceful_shutdown=5,
        timeout_keep_alive=HTTP_KEEP_ALIVE_S,
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the server (migrate the database first with ``tresen migrate``)."""
    _run_server(_settings(host, port))


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from tresen.storage.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    typer.echo(f"database is up to date ({_redact(settings.database_url)})")


@app.command()
def backup(
    to: Annotated[
        Path | None, typer.Option(help="Directory for the copy (default: VAR_DIR/backups).")
    ] = None,
) -> None:
    """Copy the SQLite database into a timestamped file, safely while the server runs.

    For PostgreSQL, prints the pg_dump command to use instead and exits with status 2."""
    from tresen.storage.backup import BackupRefused, backup_sqlite, pg_dump_command, sqlite_path

    settings = _settings()
    try:
        source = sqlite_path(settings.database_url)
        if source is None:
            typer.echo(
                "error: `tresen backup` copies SQLite databases only; for PostgreSQL run:\n"
                f"  {pg_dump_command(settings.database_url)}",
                err=True,
            )
            raise typer.Exit(2)
        target = backup_sqlite(source, to or settings.var_dir / "backups")
    except BackupRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"backed up {source} to {target}")


@app.command()
def demo(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Migrate, seed a demo site with agents anna and ben, print how to log in, and serve."""
    from tresen.demo import seed_demo
    from tresen.storage.migrate import upgrade

    settings = _settings(host, port)
    upgrade(settings.database_url)
    info = asyncio.run(seed_demo(settings))
    typer.echo(info)
    _run_server(settings)


@agent_app.command("add")
def agent_add(
    username: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    role: Annotated[str, typer.Option(help="admin or agent.")] = "agent",
    skill: Annotated[list[str] | None, typer.Option(help="A skill; repeat for more.")] = None,
    max_chats: Annotated[int, typer.Option(help="Concurrent chats.")] = 4,
) -> None:
    """Create an agent."""
    from tresen.agents.actions import check_create_agent

    async def run() -> str:
        async with _runtime() as rt:
            agent = await check_create_agent(
                rt,
                username,
                password,
                display_name=name,
                role=role,
                skills=skill or [],
                max_chats=max_chats,
            )
            return f"agent {agent.username} (id {agent.id}, {agent.role}) created"

    typer.echo(_or_exit(run))


@site_app.command("add")
def site_add(
    name: str,
    origin: Annotated[
        list[str] | None, typer.Option(help="Allowed origin; repeat for more.")
    ] = None,
) -> None:
    """Create a site and print its embed snippet."""
    from tresen.sites.actions import do_create_site
    from tresen.sites.queries import embed_snippet

    async def run() -> str:
        async with _runtime() as rt:
            site = await do_create_site(rt, name, origin or [])
            return (
                f"site {site.name!r} created (id {site.id})\n"
                f"identity secret: {site.identity_secret}\n"
                f"embed snippet:\n{embed_snippet(rt.settings.public_url, site)}"
            )

    typer.echo(_or_exit(run))


@reports_app.command("backfill")
def reports_backfill() -> None:
    """Rebuild the report facts of every conversation from the stored record."""
    from tresen.reports.store import backfill

    async def run() -> str:
        async with _runtime() as rt:
            return f"rebuilt the facts of {await backfill(rt)} conversations"

    typer.echo(_or_exit(run))


def _or_exit(fn: object) -> str:
    from tresen.errors import TresenError

    try:
        return asyncio.run(fn())  # type: ignore[operator, no-any-return]
    except TresenError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc


def _runtime():  # type: ignore[no-untyped-def]
    from contextlib import asynccontextmanager

    from tresen.runtime import build_runtime

    @asynccontextmanager
    async def ctx():  # type: ignore[no-untyped-def]
        rt = build_runtime(_settings())
        try:
            yield rt
        finally:
            await rt.close()

    return ctx()


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
