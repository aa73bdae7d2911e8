"""What `memberbase serve` prints: where it listens, how to log in, a curl to try."""

from __future__ import annotations

import base64
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


def print_banner(settings: Settings, path: Path, report: LoadReport, *, demo: bool) -> None:
    console = Console()
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
    console.print(demo_curl(base_url, till.code, password), markup=False, highlight=False, soft_wrap=True)
