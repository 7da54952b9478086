"""What every `attrition` command shares: its name, its one-line errors and its output helpers."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import IO, Any, TextIO

import click
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from attrition.errors import AttritionError

PROG = "attrition"


class CliError(click.ClickException):
    """Bad input or settings, shown as one line, `attrition: <message>`; exit status 2."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the one-line message on standard error."""
        click.echo(f"{PROG}: {self.format_message()}", err=True)


class CliFailure(CliError):
    """Good input that could not be carried out (a port in use, a database down); exit status 1."""

    exit_code = 1


class AttritionGroup(click.Group):
    """The command group; it turns known failures into one-line messages."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the group callback and the command, reporting settings and data errors briefly."""
        ctx.meta["attrition.help"] = bool(set(ctx.args) & set(ctx.help_option_names))
        try:
            return super().invoke(ctx)
        except ImproperlyConfigured as exc:
            raise CliError(str(exc)) from None
        except AttritionError as exc:
            raise CliError(exc.message) from None
        except DatabaseError as exc:
            text = str(exc).strip()
            first_line = text.splitlines()[0] if text else type(exc).__name__
            raise CliFailure(
                f"database error: {first_line} (is the database reachable, and has "
                f"`{PROG} migrate` been run?)"
            ) from None


def django_setup() -> None:
    """Load the settings (failing on bad ones) and set up Django for this process."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attrition.settings")
    import django

    django.setup()


def say(message: str, *, err: bool = False) -> None:
    """Print one line of progress, prefixed with the program name."""
    click.echo(f"{PROG}: {message}", err=err)


def counts_text(counts: Mapping[str, int]) -> str:
    """Return "12 losses, 3 claims", or "412 created, 0 updated" for '<kind>.<outcome>' counts."""
    if counts and all("." in name for name in counts):
        totals: dict[str, int] = {}
        for name, n in counts.items():
            outcome = name.rsplit(".", 1)[1]
            totals[outcome] = totals.get(outcome, 0) + n
        counts = totals
    return ", ".join(f"{n} {name}" for name, n in counts.items()) or "nothing"


def plural(n: int, noun: str) -> str:
    """Return "1 thread" or "2 threads"."""
    suffix = "es" if noun.endswith("s") else "s"
    return f"{n} {noun}" if n == 1 else f"{n} {noun}{suffix}"


def stdout_stream() -> TextIO:
    """Return standard output as a text stream for the loaders' progress."""
    return sys.stdout
