"""`memberbase staff hash`: the argon2 hash of a staff password, for org files kept in git."""

from __future__ import annotations

import typer

from memberbase.auth.passwords import hash_exact
from memberbase.cli.errors import fail

staff_app = typer.Typer(help="Member Care staff logins (docs/member-care.md).")


@staff_app.command("hash")
def hash_password(
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="the password (asked if not given)"
    ),
) -> None:
    """Print the argon2 hash to put in the org file as a staff user's `password_hash`."""
    if len(password) < 8:
        fail("a staff password has at least 8 characters")
    typer.echo(hash_exact(password))
