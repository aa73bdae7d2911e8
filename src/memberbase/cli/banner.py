"""What `memberbase serve` prints: where it listens, how to log in, a curl to try."""

from __future__ import annotations

import base64
import json
import shlex
from pathlib import Path

from rich.console import Console

from memberbase.auth.passwords import wire_secret
from memberbase.settings import Settings
from memberbase.usecases.load_orgs import LoadReport, read_org_file

SAMPLE_BODY = (
    '{"root":{"customer":[{"mobile":"919876532218","email":"tom.sawyer@example.com",'
    '"firstname":"Tom","lastname":"Sawyer","type":"LOYALTY"}]}}'
)


def demo_curl(base_url: str, till: str, password: str) -> str:
    user = f"{till}:{wire_secret(password)}"
    return (
        f"curl -s -X POST '{base_url}/v1.1/customer/add?format=json' \\\n"
        f"  -u {shlex.quote(user)} \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        f"  -d {shlex.quote(SAMPLE_BODY)}"
    )


def token_curls(base_url: str, key: str, secret: str) -> str:
    """Two commands to paste: ask for a token (kept in $TOKEN), then call with it."""
    body = json.dumps({"key": key, "secret": secret}, separators=(",", ":"))
    read_token = 'import json, sys; print(json.load(sys.stdin)["data"]["accessToken"])'
    return (
        f"TOKEN=$(curl -s -X POST '{base_url}/v3/oauth/token/generate' \\\n"
        f"  -H 'Content-Type: application/json' -d {shlex.quote(body)} \\\n"
        f"  | python3 -c {shlex.quote(read_token)})\n"
        f"curl -s '{base_url}/v1.1/customer/get?format=json&mobile=919876532218' \\\n"
        '  -H "X-CAP-API-OAUTH-TOKEN: $TOKEN"'
    )


def print_banner(settings: Settings, path: Path, report: LoadReport, *, demo: bool) -> None:
    console = Console(soft_wrap=True)  # a log keeps each line whole; the curls break lines themselves
    shown_host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    base_url = f"http://{shown_host}:{settings.port}"
    console.print(f"[bold]memberbase[/bold] on {base_url}  (database: {settings.database_url})")
    console.print(
        f"orgs from {path}: created {report.created or '-'}, updated {report.updated or '-'}, "
        f"unchanged {report.unchanged or '-'}"
    )
    if not demo:
        return
    org = read_org_file(path).orgs[0]
    till = org.tills[0]
    password = till.password or ""
    secret = wire_secret(password)
    basic = base64.b64encode(f"{till.code}:{secret}".encode()).decode()
    console.print(f"demo org {org.id} ({org.name}); till [bold]{till.code}[/bold] / password {password}")
    console.print(f"  Basic auth sends md5(password): {till.code}:{secret}")
    console.print(f"  Authorization: Basic {basic}")
    console.print("Register a customer:")
    console.print(demo_curl(base_url, till.code, password), markup=False, highlight=False)
    for client in org.api_clients:
        if client.secret is None:
            continue
        console.print(
            f"OAuth: API client [bold]{client.key}[/bold] / secret {client.secret}; "
            "get a token, then send it as X-CAP-API-OAUTH-TOKEN:"
        )
        console.print(token_curls(base_url, client.key, client.secret), markup=False, highlight=False)
    for user in org.staff:
        if user.password is not None:
            console.print(
                f"Member Care (staff console): {base_url}/member-care/login, "
                f"[bold]{user.username}[/bold] / {user.password} ({user.role})"
            )
