"""The token signing key: from the environment or a file, never the database; rotation; refusal."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import jwt
import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from typer.testing import CliRunner

from memberbase.app import create_app
from memberbase.auth import tokens
from memberbase.auth.signing_keys import SecretKeyProblem, key_of, local_key_file, signing_keys
from memberbase.cli.main import app as cli
from memberbase.settings import Settings
from tests.support import OrgSpec, load_org, serving

KEY_A = "a" * 40
KEY_B = "b" * 40
PG = "postgresql://postgres@127.0.0.1:5432/unused"


def test_postgresql_without_a_key_refuses_to_start() -> None:
    with pytest.raises(SecretKeyProblem, match="PostgreSQL deployment needs MEMBERBASE_SECRET_KEY"):
        signing_keys(Settings(database_url=PG, secret_key=None))


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"secret_key": "short"}, "at least 32 characters"),
        ({"secret_key": KEY_A, "secret_key_file": "/etc/hostname"}, "not both"),
        ({"secret_key": KEY_A, "previous_secret_key": "short"}, "PREVIOUS_SECRET_KEY must be at least"),
        ({"secret_key": None, "secret_key_file": "/no/such/file"}, "cannot read MEMBERBASE_SECRET_KEY_FILE"),
    ],
)
def test_unusable_keys_are_refused(given: dict[str, Any], problem: str) -> None:
    with pytest.raises(SecretKeyProblem, match=problem):
        signing_keys(Settings(database_url=PG, **given))


def test_a_key_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    file = tmp_path / "key"
    file.write_text(KEY_B + "\n")
    file.chmod(0o600)
    from_file = signing_keys(Settings(database_url=PG, secret_key=None, secret_key_file=file))
    assert from_file.current == key_of(KEY_B)
    keys = signing_keys(Settings(database_url=PG, secret_key=SecretStr(KEY_A), previous_secret_key_file=file))
    assert (keys.current, keys.previous) == (key_of(KEY_A), key_of(KEY_B))
    assert KEY_A not in repr(keys)


def test_sqlite_without_a_key_keeps_a_generated_one_beside_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'memberbase.db'}"
    first = signing_keys(Settings(database_url=url, secret_key=None))
    path = local_key_file(url)
    assert path == tmp_path / "memberbase.db.secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing_keys(Settings(database_url=url, secret_key=None)) == first
    assert [p.name for p in tmp_path.iterdir()] == ["memberbase.db.secret"]  # no temporary file left


def test_the_signing_key_is_no_longer_in_the_database(database_url: str) -> None:
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        assert "server_secrets" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


async def _token_and_check(
    database_url: str, spec: OrgSpec, issuer: dict[str, Any], checker: dict[str, Any]
) -> tuple[str, int]:
    async def call(settings: dict[str, Any], token: str | None) -> httpx.Response:
        app = create_app(Settings(database_url=database_url, **settings))
        async with serving(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                if token is None:
                    key = {"key": f"key-{spec.org_id}", "secret": "Client-Secret-42"}
                    return await client.post("/v3/oauth/token/generate", json=key)
                return await client.get("/v2/extendedFields", headers={"X-CAP-API-OAUTH-TOKEN": token})

    token = (await call(issuer, None)).json()["data"]["accessToken"]
    return token, (await call(checker, token)).status_code


@pytest.fixture
async def client_spec(database_url: str, org_spec: OrgSpec) -> OrgSpec:
    client = {"key": f"key-{org_spec.org_id}", "secret": "Client-Secret-42", "default_till": org_spec.till}
    org_spec.overrides = {"api_clients": [client]}
    await load_org(database_url, org_spec)
    return org_spec


@pytest.mark.anyio
async def test_tokens_are_signed_with_the_configured_key_and_name_it(
    database_url: str, client_spec: OrgSpec
) -> None:
    token, status = await _token_and_check(
        database_url, client_spec, {"secret_key": KEY_A}, {"secret_key": KEY_A}
    )
    assert status == 200
    assert jwt.get_unverified_header(token)["kid"] == key_of(KEY_A).kid
    jwt.decode(token, KEY_A, algorithms=["HS256"], options={"verify_aud": False})  # the key given, no other


@pytest.mark.anyio
async def test_a_rotated_key_keeps_its_tokens_while_it_is_the_previous_one(
    database_url: str, client_spec: OrgSpec
) -> None:
    rotated = {"secret_key": KEY_B, "previous_secret_key": KEY_A}
    assert (await _token_and_check(database_url, client_spec, {"secret_key": KEY_A}, rotated))[1] == 200
    dropped = {"secret_key": KEY_B}
    assert (await _token_and_check(database_url, client_spec, {"secret_key": KEY_A}, dropped))[1] == 401


def test_a_token_without_a_key_id_is_invalid() -> None:
    now = dt.datetime.now(dt.UTC)
    payload = {"iss": "memberbase", "sub": "k", "org_id": 1, "iat": int(now.timestamp()), "exp": 2**40}
    token = jwt.encode({**payload, "token_use": "token_access"}, KEY_A, algorithm="HS256")
    keys = signing_keys(Settings(database_url=PG, secret_key=KEY_A))
    with pytest.raises(tokens.TokenInvalid):
        tokens.verify(keys, token)


def test_serve_on_postgresql_without_a_key_exits_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEMBERBASE_SECRET_KEY")
    result = CliRunner().invoke(cli, ["serve", "--database-url", PG])
    assert result.exit_code == 2
    assert "MEMBERBASE_SECRET_KEY" in result.output


def test_the_readme_serve_needs_no_key_on_sqlite(tmp_path: Path) -> None:
    from tests.test_cli import DEMO_AUTH, _free_port, child_environment

    port = _free_port()
    env = {k: v for k, v in child_environment().items() if not k.startswith("MEMBERBASE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "memberbase", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        for _ in range(200):
            try:
                got = httpx.get(f"http://127.0.0.1:{port}/v2/extendedFields", auth=DEMO_AUTH, timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    pytest.fail(proc.communicate()[0])
                time.sleep(0.2)
        assert got.status_code == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    assert (tmp_path / "memberbase.db.secret").stat().st_size > 32


def test_serve_hands_its_workers_the_key_itself_not_its_mask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret_key: str
) -> None:
    import uvicorn

    from memberbase.cli import workers as workers_module
    from tests.test_cli import _free_port

    seen: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_a, **_kw: seen.append(os.environ["MEMBERBASE_SECRET_KEY"]))
    monkeypatch.setattr(
        workers_module.SocketPerWorker, "run", lambda _self: seen.append(os.environ["MEMBERBASE_SECRET_KEY"])
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEMBERBASE_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    with mock.patch.dict(os.environ):
        result = CliRunner().invoke(cli, ["serve", "--port", str(_free_port()), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert seen == [secret_key]
