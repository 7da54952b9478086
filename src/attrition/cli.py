"""The `attrition` command: start an instance, run its job worker, and manage its data."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import Any, Literal

import click

from attrition.cli_accounts import users
from attrition.cli_backup import backup, migrate_to, restore
from attrition.cli_base import (
    PROG,
    AttritionGroup,
    CliError,
    CliFailure,
    counts_text,
    django_setup,
    plural,
    say,
    stdout_stream,
)
from attrition.cli_capture import bundle, capture, linkrot, verify
from attrition.cli_counting import claims, estimate, tally, timeline
from attrition.cli_dedup import dedup
from attrition.cli_import_mapping import import_mapping
from attrition.cli_ledger import count, import_
from attrition.cli_scaleout import scale_out, serve
from attrition.cli_sync import sync
from attrition.cli_territory import territory

DEFAULT_BIND = "127.0.0.1:8000"
ADMIN_USERNAME = "admin"
# How long a stopping child may take before it is killed; `attrition up` stops within this.
STOP_TIMEOUT_S = 12.0
# How long the job worker lets running jobs finish on SIGTERM (below STOP_TIMEOUT_S).
WORKER_SHUTDOWN_S = 8.0
WEB_GRACEFUL_S = 5


@click.group(cls=AttritionGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="attrition", prog_name=PROG)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Run and manage an attrition instance: a verified ledger of equipment losses.

    Settings come from the environment (see docs/settings.md); with none set, the instance
    keeps everything in ./data.
    """
    if not ctx.meta.get("attrition.help"):
        django_setup()


# --- up -----------------------------------------------------------------------------------------


def bind_parse(bind: str) -> tuple[str, int]:
    """Return (host, port) for a HOST:PORT address, or fail with a clear message."""
    host, sep, port_text = bind.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise CliError(f"--bind {bind!r} is not HOST:PORT, for example {DEFAULT_BIND}")
    return host, int(port_text)


def port_check_free(host: str, port: int) -> None:
    """Fail with a clear message unless this process could listen on host:port now."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise CliFailure(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise CliFailure(
                f"cannot listen on {host}:{port}: {exc.strerror or exc} "
                "(is another instance running? choose another port with --bind)"
            ) from None


def database_text() -> str:
    """Return where the default database is, without any password."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"SQLite at {db['NAME']}"
    return f"{connection.display_name} {db.get('NAME')} on {db.get('HOST') or 'localhost'}"


def admin_ensure(*, base_url: str) -> None:
    """Create an admin account if the instance has none, printing its one-time password once."""
    from attrition.accounts.models import Role, User
    from attrition.accounts.services import admin_create

    if User.objects.filter(role=Role.ADMIN, is_active=True).exists():
        say("an admin account exists (its password was shown when it was created)")
        return
    taken = set(User.objects.values_list("username", flat=True))
    username = next(
        name
        for name in [ADMIN_USERNAME, *(f"{ADMIN_USERNAME}{n}" for n in range(2, 1000))]
        if name not in taken
    )
    user, password = admin_create(username=username)
    say(f"created the admin account {user.username!r}")
    say(f"one-time password: {password}")
    say(f"it is shown only this once: log in at {base_url}admin/ and change it")


def child_start(name: str, argv: list[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start a child process that shares this terminal; fail clearly if it cannot start."""
    try:
        return subprocess.Popen(argv, env=dict(env))  # noqa: S603 - argv is ours, not user input
    except OSError as exc:
        raise CliFailure(f"cannot start the {name}: {exc}") from None


def children_stop(children: Mapping[str, subprocess.Popen[bytes]]) -> None:
    """Ask every running child to stop (SIGTERM), then kill what is still there at the deadline."""
    for proc in children.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for name, proc in children.items():
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            say(f"the {name} did not stop in {STOP_TIMEOUT_S:.0f} s: killing it", err=True)
            proc.kill()
            proc.wait()


def exit_text(returncode: int) -> str:
    """Return "stopped unexpectedly (exit status 3)" or "was killed by SIGKILL"."""
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"stopped unexpectedly (exit status {returncode})"


class StopSignals:
    """While active, SIGINT and SIGTERM are only noted (in `received`), not acted on at once."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.previous: dict[int, Callable[[int, FrameType | None], Any] | int | None] = {}

    def __enter__(self) -> StopSignals:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.previous[signum] = signal.signal(signum, self.note)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)

    def note(self, signum: int, frame: FrameType | None) -> None:
        """Remember that a stop was asked for."""
        self.received.append(signum)


def children_supervise(children: Mapping[str, subprocess.Popen[bytes]], stop: StopSignals) -> int:
    """Wait until a signal asks us to stop or a child dies; stop all children; return the status."""
    status = 0
    while not stop.received:
        dead = [(name, proc) for name, proc in children.items() if proc.poll() is not None]
        if dead:
            name, proc = dead[0]
            say(f"the {name} {exit_text(proc.returncode)}: stopping everything", err=True)
            status = 1
            break
        time.sleep(0.2)
    if stop.received:
        say(f"received {signal.Signals(stop.received[0]).name}: stopping")
    children_stop(children)
    if status == 0:
        say("stopped")
    return status


def web_argv(bind: str) -> list[str]:
    """Return the command line of the web server (gunicorn with sync workers)."""
    from django.conf import settings

    return [
        sys.executable,
        "-m",
        "gunicorn",
        "attrition.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(settings.WEB_WORKERS),
        "--graceful-timeout",
        str(WEB_GRACEFUL_S),
        "--name",
        f"{PROG}-web",
        "--no-control-socket",  # it would live in ~/.gunicorn and clash between instances
    ]


@cli.command()
@click.option(
    "--bind",
    default=DEFAULT_BIND,
    show_default=True,
    metavar="HOST:PORT",
    help="Address the web server listens on.",
)
@click.option("--no-demo", is_flag=True, help="Do not load sample records into an empty ledger.")
@click.pass_context
def up(ctx: click.Context, bind: str, no_demo: bool) -> None:
    """Prepare the instance and serve it, with the job worker beside the web server.

    Migrates the database, collects static files, loads the reference data, loads the sample
    records while the ledger has no losses (unless --no-demo), creates an admin account if there
    is none (printing its one-time password once), then runs the job worker and the web server
    until Ctrl-C or SIGTERM. Running it again keeps all data.
    """
    host, port = bind_parse(bind)
    port_check_free(host, port)

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    from attrition.losses.models import Loss
    from attrition.reference.load import reference_load

    base_url = f"http://{bind}/"
    say(f"data directory: {settings.DATA_DIR}")
    say(f"database: {database_text()}")
    call_command("migrate", interactive=False, verbosity=0)
    say("database schema is up to date")
    call_command("collectstatic", interactive=False, verbosity=0)
    say(f"static files collected in {settings.STATIC_ROOT}")
    say(f"reference data: {counts_text(reference_load())}")
    if no_demo:
        say("sample records: not loaded (--no-demo)")
    elif Loss.objects.exists():
        say("sample records: not loaded (the ledger already has losses)")
    else:
        from attrition.demo import demo_load

        counts = demo_load()
        say(f"sample records loaded: {counts_text(counts)} (remove with `{PROG} demo --remove`)")
    admin_ensure(base_url=base_url)
    from attrition.jobs import enqueue

    enqueue("losses.snapshot")  # the open-data downloads are ready soon after start
    connections.close_all()  # the children open their own

    env = {**os.environ, "ATTRITION_DATA_DIR": str(settings.DATA_DIR)}
    children: dict[str, subprocess.Popen[bytes]] = {}
    # From the first child on, a signal must stop the children too, never only this process.
    with StopSignals() as stop:
        try:
            if settings.HUEY.get("immediate"):
                say("job worker: not started (ATTRITION_QUEUE_IMMEDIATE runs jobs in place)")
            else:
                worker_argv = [sys.executable, "-m", "attrition.cli", "worker"]
                children["job worker"] = child_start("job worker", worker_argv, env)
                say(f"job worker started (pid {children['job worker'].pid})")
            children["web server"] = child_start("web server", web_argv(bind), env)
            web_pid = children["web server"].pid
            say(f"web server started (pid {web_pid}, {plural(settings.WEB_WORKERS, 'process')})")
            say(f"serving {base_url} (Ctrl-C stops)")
        except BaseException:
            children_stop(children)
            raise
        status = children_supervise(children, stop)
    ctx.exit(status)


# --- worker -------------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Job threads to run [default: ATTRITION_WORKERS].",
)
@click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Also start the periodic jobs (run exactly one worker with them when there are several).",
)
def worker(workers: int | None, periodic: bool) -> None:
    """Run the job worker (the Huey consumer) in the foreground.

    `attrition up` starts one beside the web server; run more on other machines when the queue
    is on Redis or PostgreSQL. SIGTERM lets running jobs finish first; SIGINT stops at once.
    """
    from django.conf import settings
    from huey.contrib.djhuey import HUEY

    from attrition.jobs import discover

    if HUEY.immediate:
        raise CliError(
            "ATTRITION_QUEUE_IMMEDIATE is on: jobs run where they are enqueued, "
            "so there is nothing for a worker to do"
        )
    discover()
    threads = workers or settings.WORKERS
    consumer = HUEY.create_consumer(
        workers=threads,
        worker_type="thread",
        graceful_signal="TERM",
        shutdown_timeout=WORKER_SHUTDOWN_S,
        periodic=periodic,
    )
    say(
        f"job worker running with {plural(threads, 'thread')}"
        + ("" if periodic else " (no periodic jobs)")
    )
    consumer.run()


# --- data ---------------------------------------------------------------------------------------


@cli.command()
def migrate() -> None:
    """Create or update the database schema (safe to run at any time)."""
    from django.core.management import call_command

    say(f"database: {database_text()}")
    call_command("migrate", interactive=False, verbosity=1)


@cli.command()
@click.option("--username", default=ADMIN_USERNAME, show_default=True, help="Login name.")
@click.option("--email", default="", help="Email address (optional).")
def createadmin(username: str, email: str) -> None:
    """Create an admin account and print its generated password once."""
    from attrition.accounts.services import admin_create

    user, password = admin_create(username=username, email=email)
    say(f"created the admin account {user.username!r}")
    say(f"one-time password: {password}")
    say("it is shown only this once: log in and change it")


@cli.command()
@click.option("--remove", is_flag=True, help="Delete every sample record instead of loading them.")
def demo(remove: bool) -> None:
    """Load the sample records (marked as samples everywhere), or remove them all."""
    from attrition.demo import demo_load, demo_remove

    if remove:
        say(f"sample records removed: {counts_text(demo_remove())}")
    else:
        say(f"sample records loaded: {counts_text(demo_load())}")


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="File format.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write; replaced only once the export is complete [default: standard output].",
)
@click.option(
    "--all",
    "include_all",
    is_flag=True,
    help="Include unpublished records (draft, submitted, rejected, merged), as an admin sees them.",
)
def export(fmt: Literal["csv", "json"], output: Path | None, include_all: bool) -> None:
    """Export the losses with their evidence as open data (verified records only by default)."""
    from attrition.losses.exports import export_losses

    if output is None or str(output) == "-":
        count = export_losses(fmt=fmt, out=stdout_stream(), include_unpublished=include_all)
        say(f"exported {count} losses", err=True)
        return
    folder = output.resolve().parent
    if not folder.is_dir():
        raise CliError(f"cannot write {output}: the directory {folder} does not exist")
    fd, temp_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            count = export_losses(fmt=fmt, out=out, include_unpublished=include_all)
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, output)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    say(f"exported {count} losses to {output}", err=True)


@cli.command()
def reference() -> None:
    """Load or refresh the shipped reference data (taxonomy, conflicts, boundaries)."""
    from attrition.reference.load import reference_load

    say(f"reference data: {counts_text(reference_load(stdout=stdout_stream()))}")


# The ledger's data commands live in cli_ledger.
cli.add_command(count)
cli.add_command(import_)
cli.add_command(import_mapping)
cli.add_command(sync)  # cli_sync: bring the ledger up to date with a tracker's API
# The evidence commands live in cli_capture.
cli.add_command(capture)
cli.add_command(bundle)
cli.add_command(verify)
cli.add_command(linkrot)
cli.add_command(dedup)
# The account commands live in cli_accounts.
cli.add_command(users)
# The territory commands live in cli_territory.
cli.add_command(territory)
# The counting commands live in cli_counting.
cli.add_command(timeline)
cli.add_command(estimate)
cli.add_command(tally)
cli.add_command(claims)
# The backup commands live in cli_backup.
for _command in (backup, restore, migrate_to):
    cli.add_command(_command)
# The scale-out commands live in cli_scaleout.
cli.add_command(serve)
cli.add_command(scale_out)


# --- entry point --------------------------------------------------------------------------------


def main() -> None:
    """Run the `attrition` command line and exit with its status."""
    try:
        status = cli.main(prog_name=PROG, standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else PROG
        say(f"{exc.format_message()} (see `{where} --help`)", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        say("aborted", err=True)
        sys.exit(1)
    sys.exit(status if isinstance(status, int) else 0)


if __name__ == "__main__":
    main()
