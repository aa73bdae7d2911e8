"""What a command says when the user can fix the problem: one line on stderr and an exit code.

A missing database, an unreachable broker or a bad setting is not a bug, so it gets no
traceback; bugs still get theirs. Lines are never wrapped, so a log keeps each one whole.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from memberbase.settings import Settings
from memberbase.storage.database import UnsupportedDatabase

err = Console(stderr=True, soft_wrap=True, highlight=False)


def fail(message: str, exit_code: int = 1) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(exit_code)


def shown(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable URL)"


def settings(**overrides: object) -> Settings:
    """Settings from the given options (None: not given) over MEMBERBASE_*; exit 2 when invalid."""
    try:
        given = {k: v for k, v in overrides.items() if v is not None}
        return Settings(**given)  # type: ignore[arg-type]  # the constructor also reads MEMBERBASE_*
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        fail(f"invalid settings: {problems}", 2)


@contextlib.contextmanager
def database_errors(database_url: str) -> Iterator[None]:
    """A database that is missing, unreachable or refuses us: one line naming it, exit 2."""
    try:
        yield
    except UnsupportedDatabase as exc:
        fail(str(exc), 2)
    except (OSError, SQLAlchemyError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip() or type(exc).__name__
        # SQLAlchemy adds the statement and a link on further lines; the first says what is wrong.
        fail(f"cannot use the database {shown(database_url)}: {reason.splitlines()[0]}", 2)
