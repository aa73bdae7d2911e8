"""Loading organisations from the YAML file into the database.

Re-loading an edited file updates the org (its version goes up, so every
process re-reads it) and its tills; it never deletes customers. A till that
left the file is deactivated rather than deleted, so its history stays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import anyio.to_thread
import yaml
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from memberbase.auth.passwords import hash_exact, hash_wire_secret, verify_exact, verify_slow, wire_secret
from memberbase.domain.org_config import OrgConfig, OrgFile
from memberbase.storage.orgs import OrgRepository
from memberbase.usecases.unit_of_work import UnitOfWork

DEMO_FILE = Path(__file__).resolve().parent.parent / "demo.yaml"


class OrgFileError(ValueError):
    """The file cannot be read or does not describe valid orgs; the message says where."""


def read_org_file(path: Path) -> OrgFile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OrgFileError(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise OrgFileError(f"{path} is not valid YAML: {exc}") from exc
    try:
        return OrgFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}" for err in exc.errors()
        )
        raise OrgFileError(f"{path}: {problems}") from exc


@dataclass
class LoadReport:
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)


async def load_orgs(engine: AsyncEngine, org_file: OrgFile, now: dt.datetime | None = None) -> LoadReport:
    when = now or dt.datetime.now(dt.UTC)
    report = LoadReport()
    async with UnitOfWork(engine) as uow:
        repo = OrgRepository(uow.conn)
        for given in org_file.orgs:
            await _check_till_owners(repo, given)
            stored = await repo.get_config(given.id)
            org = await _staff_hashed(given, stored[1] if stored is not None else None)
            if stored is None:
                await repo.save(org, 1, when, insert=True)
                await _put_tills(repo, org)
                await _put_clients(repo, org)
                report.created.append(org.id)
                continue
            version, current = stored
            tills_changed = await _put_tills(repo, org)
            tills_changed = await _put_clients(repo, org) or tills_changed
            if _public(current) != _public(org) or tills_changed:
                # A new version makes every process re-read the org (and drop memoised logins).
                await repo.save(org, version + 1, when, insert=False)
                report.updated.append(org.id)
            else:
                report.unchanged.append(org.id)
    return report


_SECRETS = {"tills": {"__all__": {"password", "password_md5"}}, "api_clients": {"__all__": {"secret"}}}


def _public(org: OrgConfig) -> dict[str, object]:
    return org.model_dump(mode="json", exclude=_SECRETS)


async def _staff_hashed(org: OrgConfig, current: OrgConfig | None) -> OrgConfig:
    """The org with its staff passwords replaced by argon2 hashes (the stored config never
    holds a password); a stored hash that still verifies is kept, so an unchanged file
    leaves the org's version alone."""
    staff = []
    for user in org.staff:
        if user.password is None:
            staff.append(user)
            continue
        kept = current.staff_user(user.username) if current is not None else None
        hashed = kept.password_hash if kept is not None else None
        if hashed is None or not await anyio.to_thread.run_sync(verify_exact, hashed, user.password):
            hashed = await anyio.to_thread.run_sync(hash_exact, user.password)
        staff.append(user.model_copy(update={"password": None, "password_hash": hashed}))
    return org.model_copy(update={"staff": tuple(staff)})


async def _check_till_owners(repo: OrgRepository, org: OrgConfig) -> None:
    for till in org.tills:
        owner = await repo.till_owner(till.code)
        if owner is not None and owner != org.id:
            raise OrgFileError(f"till {till.code!r} already belongs to org {owner}; till codes are logins")
    for client in org.api_clients:
        owner = await repo.client_owner(client.key)
        if owner is not None and owner != org.id:
            raise OrgFileError(f"api client {client.key!r} already belongs to org {owner}; keys are logins")


async def _put_clients(repo: OrgRepository, org: OrgConfig) -> bool:
    """Create, re-key or re-activate the org's API clients; True when any login changed."""
    existing = await repo.clients(org.id)
    changed = False
    for client in org.api_clients:
        secret = client.secret or ""
        current = existing.get(client.key)
        if current is not None and await anyio.to_thread.run_sync(
            verify_exact, current.password_hash, secret
        ):
            changed = changed or not current.active
            await repo.put_client(org.id, client.key, current.password_hash, insert=False)
            continue
        hashed = await anyio.to_thread.run_sync(hash_exact, secret)
        await repo.put_client(org.id, client.key, hashed, insert=current is None)
        changed = True
    keep = {c.key for c in org.api_clients}
    leaving = {key for key, c in existing.items() if c.active and key not in keep}
    await repo.deactivate_clients_except(org.id, keep)
    return changed or bool(leaving)


async def _put_tills(repo: OrgRepository, org: OrgConfig) -> bool:
    """Create, re-key or re-activate the org's tills; True when any login changed."""
    existing = await repo.tills(org.id)
    changed = False
    for till in org.tills:
        secret = till.password_md5.lower() if till.password_md5 else wire_secret(till.password or "")
        current = existing.get(till.code)
        if current is not None and await anyio.to_thread.run_sync(verify_slow, current.password_hash, secret):
            changed = changed or not current.active
            await repo.put_till(org.id, till.code, current.password_hash, till.store, insert=False)
            continue
        hashed = await anyio.to_thread.run_sync(hash_wire_secret, secret)
        await repo.put_till(org.id, till.code, hashed, till.store, insert=current is None)
        changed = True
    keep = {t.code for t in org.tills}
    leaving = {code for code, t in existing.items() if t.active and code not in keep}
    await repo.deactivate_tills_except(org.id, keep)
    return changed or bool(leaving)
