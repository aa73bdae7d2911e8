"""The keys OAuth access tokens are signed with: from the environment or a file, never the database.

The signing key used to sit in plain text in the `server_secrets` table, so anyone who could
read the database could mint a token for any org. Now it comes from `MEMBERBASE_SECRET_KEY`
or the file `MEMBERBASE_SECRET_KEY_FILE` names. Each token names its key by a key id (`kid`,
derived from the key), and `MEMBERBASE_PREVIOUS_SECRET_KEY` (or `_FILE`) stays accepted for
tokens it signed, so a key can be rotated without logging every client out.

On PostgreSQL (production: several processes, often several machines) a key must be given;
without one the server refuses to start. On SQLite (the embedded, single-machine default) a
key is generated on first start into a file beside the database (`memberbase.db.secret`,
mode 0600) and read from there afterwards, so `memberbase serve` needs no setup.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.engine import make_url

from memberbase.settings import Settings

MIN_LENGTH = 32
GENERATE_HINT = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"

log = logging.getLogger(__name__)


class SecretKeyProblem(Exception):
    """No usable signing key: the server must not start."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    secret: bytes

    def __repr__(self) -> str:  # never the secret, in logs or tracebacks
        return f"SigningKey(kid={self.kid!r})"


@dataclass(frozen=True)
class SigningKeys:
    current: SigningKey
    previous: SigningKey | None = None

    def by_kid(self, kid: object) -> SigningKey | None:
        return next((k for k in (self.current, self.previous) if k is not None and k.kid == kid), None)


def key_of(secret: str) -> SigningKey:
    raw = secret.encode()
    # Derived, so every process names one key alike; SHA-256 of a key of 32+ characters tells nothing of it.
    kid = hashlib.sha256(b"memberbase-kid:" + raw).hexdigest()[:16]
    return SigningKey(kid, raw)


def _given(value: SecretStr | None, file: Path | None, name: str) -> str | None:
    if value is not None and file is not None:
        raise SecretKeyProblem(f"set {name} or {name}_FILE, not both")
    if file is not None:
        try:
            text = file.read_text().strip()
            if file.stat().st_mode & 0o077:
                log.warning("%s_FILE %s can be read by other users: chmod 600 it", name, file)
        except OSError as exc:
            raise SecretKeyProblem(f"cannot read {name}_FILE {file}: {exc.strerror}") from exc
    elif value is not None:
        text = value.get_secret_value().strip()
    else:
        return None
    if len(text) < MIN_LENGTH:
        raise SecretKeyProblem(
            f"{name} must be at least {MIN_LENGTH} characters; make one with {GENERATE_HINT}"
        )
    return text


def is_production(database_url: str) -> bool:
    """Production is a PostgreSQL database: processes, often machines, that must share one key."""
    return not database_url.startswith("sqlite")


def local_key_file(database_url: str) -> Path | None:
    """Where an SQLite install keeps its generated key: beside the database (None: in memory)."""
    database = make_url(database_url).database
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".secret")


def _local_key(path: Path | None) -> str:
    if path is None:
        return secrets.token_urlsafe(48)  # an in-memory database: tokens last as long as the process
    with contextlib.suppress(FileNotFoundError):
        return path.read_text().strip()
    # Written whole to a file of its own, then linked into place: of several processes starting
    # at once, the first link wins and every process reads the same key.
    fresh = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(fresh, path)
    finally:
        fresh.unlink()
    return path.read_text().strip()


def signing_keys(settings: Settings) -> SigningKeys:
    """The current key and the previous one, if any; SecretKeyProblem when the server must not start."""
    current = _given(settings.secret_key, settings.secret_key_file, "MEMBERBASE_SECRET_KEY")
    previous = _given(
        settings.previous_secret_key, settings.previous_secret_key_file, "MEMBERBASE_PREVIOUS_SECRET_KEY"
    )
    if current is None:
        if is_production(settings.database_url):
            raise SecretKeyProblem(
                "a PostgreSQL deployment needs MEMBERBASE_SECRET_KEY or MEMBERBASE_SECRET_KEY_FILE (the key "
                f"OAuth tokens are signed with, the same for every process); make one: {GENERATE_HINT}"
            )
        try:
            current = _local_key(local_key_file(settings.database_url))
        except OSError as exc:
            raise SecretKeyProblem(f"cannot keep a generated key beside the database: {exc}") from exc
    return SigningKeys(key_of(current), key_of(previous) if previous is not None else None)
