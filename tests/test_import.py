"""`memberbase import`: the API's rules for files, resumable, with a rejects report."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from memberbase.cli.main import app
from memberbase.domain.org_config import OrgConfig
from memberbase.importing.rows import FileProblem, read_rows
from memberbase.storage.database import create_engine
from memberbase.usecases import register_customers
from memberbase.usecases.auditing import RequestContext
from memberbase.usecases.import_customers import (
    ImportRefused,
    ImportRequest,
    ImportStatus,
    import_customers,
    prepare_in_helper,
)
from tests.rewards_support import COUPON_SERIES, loyalty_api, query
from tests.support import OrgSpec

pytestmark = pytest.mark.anyio

WELCOME = [{"id": "W", "points": 100}, {"id": "C", "coupon_series": 11}]


@pytest.fixture
def client(app_client: tuple[Any, httpx.AsyncClient]) -> httpx.AsyncClient:
    return app_client[1]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as out:
        csv.writer(out).writerows(rows)
    return path


async def run(database_url: str, spec: OrgSpec, path: Path, **options: Any) -> ImportStatus:
    engine = create_engine(database_url)
    progress = options.pop("progress", lambda s: None)
    try:
        request = ImportRequest(
            org_id=spec.org_id,
            path=path,
            fmt=options.pop("fmt", "csv"),
            rejects_path=path.with_name(path.name + ".rejects.csv"),
            **options,
        )
        return await import_customers(engine, request, progress)
    finally:
        await engine.dispose()


def rejects_of(path: Path) -> list[list[str]]:
    with path.with_name(path.name + ".rejects.csv").open(newline="") as f:
        return list(csv.reader(f))


HEADER = ["mobile", "email", "firstname", "lastname", "custom_fields.City_name", "extended_fields.gender"]


async def test_a_csv_goes_through_the_api_rules_and_reports_rejects(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec, tmp_path: Path
) -> None:
    await loyalty_api(client, database_url, org_spec, *WELCOME)
    path = write_csv(
        tmp_path / "customers.csv",
        [
            HEADER,
            ["919811100001", "ann@example.com", "Ann", "One", "Pune", "Female"],
            ["919811100002", "", "Bob", "Two", "", ""],
            ["12", "", "Bad", "Mobile", "", ""],
            ["919811100001", "", "Ann", "Again", "", ""],
            ["919811100003", "not-an-email", "Cy", "Three", "", ""],
        ],
    )
    status = await run(database_url, org_spec, path)
    run_ = status.run
    assert (run_.rows, run_.registered, run_.updated, run_.rejected) == (5, 2, 1, 2)
    assert rejects_of(path) == [
        ["line", "code", "message", "row"],
        ["4", "1006", "Mobile number validation failed", "12,,Bad,Mobile,,"],
        ["6", "1002", "Unable to register. Invalid email id", "919811100003,not-an-email,Cy,Three,,"],
    ]
    rows = await query(
        database_url,
        "SELECT mobile, email, lastname, custom_fields, extended_fields FROM customers"
        " WHERE org_id = :o ORDER BY id",
        o=org_spec.org_id,
    )
    first = rows[0]
    assert (first[0], first[1], first[2]) == ("919811100001", "ann@example.com", "Again")
    fields = [json.loads(f) if isinstance(f, str) else f for f in (first[3], first[4])]
    assert fields == [{"City_name": "Pune"}, {"gender": "Female"}]
    assert len(rows) == 2
    ledger = await query(
        database_url, "SELECT count(*) FROM reward_ledger WHERE org_id = :o", o=org_spec.org_id
    )
    assert ledger[0][0] == 2  # the welcome points, once per new customer (the update earns none)
    kinds = await query(
        database_url, "SELECT type, count(*) FROM outbox WHERE org_id = :o GROUP BY type", o=org_spec.org_id
    )
    assert dict(kinds) == {
        "customer.registered": 2,
        "customer.updated": 1,
        "points.awarded": 2,
        "coupon.issued": 2,
    }


async def snapshot(database_url: str, org_id: int) -> dict[str, Any]:
    """What an import wrote, without ids, times and random codes."""
    customers = await query(
        database_url,
        "SELECT firstname, lastname, mobile, email, external_id, type, source, registered_till"
        " FROM customers WHERE org_id = :o ORDER BY mobile",
        o=org_id,
    )
    enrolments = await query(
        database_url,
        "SELECT c.mobile, e.program_id, e.tier_serial, e.loyalty_points, e.lifetime_points,"
        " e.points_expire_on IS NULL FROM enrolments e JOIN customers c ON c.org_id = e.org_id"
        " AND c.id = e.customer_id WHERE e.org_id = :o ORDER BY c.mobile, e.program_id",
        o=org_id,
    )
    ledger = await query(
        database_url,
        "SELECT c.mobile, l.kind, l.rule_id, l.value, l.currency FROM reward_ledger l JOIN customers c"
        " ON c.org_id = l.org_id AND c.id = l.customer_id WHERE l.org_id = :o ORDER BY c.mobile, l.rule_id",
        o=org_id,
    )
    counts = {}
    for table in ("identifiers", "profiles", "coupons", "currency_balances", "audit_log", "referral_codes"):
        counts[table] = (
            await query(database_url, f"SELECT count(*) FROM {table} WHERE org_id = :o", o=org_id)
        )[0][0]
    rows = await query(
        database_url,
        "SELECT c.mobile, o.type, o.event_id, o.customer_id, o.payload FROM outbox o JOIN customers c"
        " ON c.org_id = o.org_id AND c.id = o.customer_id WHERE o.org_id = :o ORDER BY o.id",
        o=org_id,
    )
    per_customer: dict[str, list[tuple[str, Any]]] = {}
    for mobile, kind, event_id, customer_id, stored in rows:
        payload = _json(stored)
        # The envelope tells of its own row, whichever path wrote it.
        assert (payload["id"], payload["type"]) == (event_id, kind)
        assert (payload["orgId"], payload["customerId"]) == (org_id, customer_id)
        per_customer.setdefault(mobile, []).append((kind, _steady(payload["data"])))
    events = sorted(per_customer.items())
    audits = await query(
        database_url,
        "SELECT c.mobile, a.action, a.changes FROM audit_log a JOIN customers c ON c.org_id = a.org_id"
        " AND c.id = a.customer_id WHERE a.org_id = :o ORDER BY c.mobile, a.occurred_at, a.action",
        o=org_id,
    )
    profiles = await query(
        database_url,
        "SELECT c.mobile, p.source, p.account_id, p.firstname, p.lastname, p.identifiers, p.comm_channels,"
        " p.fields FROM profiles p JOIN customers c ON c.org_id = p.org_id AND c.id = p.customer_id"
        " WHERE p.org_id = :o ORDER BY c.mobile, p.source, p.account_id",
        o=org_id,
    )
    return {
        "customers": [tuple(r) for r in customers],
        "enrolments": [tuple(r) for r in enrolments],
        "ledger": [tuple(r) for r in ledger],
        "counts": counts,
        "events": [tuple(r) for r in events],
        "audits": [(mobile, action, _steady(_json(changes))) for mobile, action, changes in audits],
        "profiles": [(*r[:5], *map(_json, r[5:])) for r in profiles],
    }


# Keys whose values differ from one run to the next: times, tills, ids and random codes.
_VARYING = {
    "registeredOn",
    "registered_on",
    "updated_on",
    "till",
    "registered_till",
    "entryKey",
    "couponId",
    "couponCode",
    "validTill",
    "tierExpiresOn",
    "expiresOn",
}


def _json(value: Any) -> Any:
    """A JSON column's value: SQLite hands plain SQL its text."""
    return json.loads(value) if isinstance(value, str) else value


def _steady(value: Any) -> Any:
    """A JSON value without the keys that vary from run to run."""
    if isinstance(value, dict):
        return {k: _steady(v) for k, v in value.items() if k not in _VARYING}
    if isinstance(value, list):
        return [_steady(v) for v in value]
    return value


async def import_and_snapshot(
    database_url: str, spec: OrgSpec, path: Path, **options: Any
) -> tuple[tuple[int, int, int], dict[str, Any]]:
    """Import in batches of 7 as the org's own till: (registered, updated, rejected) and the
    org's rows, without the till (which differs from org to org)."""
    status = await run(database_url, spec, path, batch_size=7, till_code=spec.till, **options)
    snap = await snapshot(database_url, spec.org_id)
    snap["customers"] = [c[:7] for c in snap["customers"]]
    return (status.run.registered, status.run.updated, status.run.rejected), snap


async def test_the_postgresql_fast_path_writes_what_one_by_one_writes(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    # On SQLite both runs go row by row (the fast path is PostgreSQL's): the same answer either way.
    rewards = [
        {"id": "W", "points": 600},  # enough for the Bronze tier
        {"id": "C", "coupon_series": 11},
        {"id": "AC", "alternate_currency": {"identifier": "x", "name": "X", "value": 5}},
    ]
    lines = [HEADER] + [[f"9198112{n:05d}", f"p{n}@example.com", f"P{n}", "Fast", "", ""] for n in range(30)]
    lines.append(["9198112" + "00003", "", "Dup", "Row", "", ""])  # a repeat in the file: an update
    lines.append(["bad", "", "X", "Y", "", ""])
    snapshots = []
    for bulk in (True, False):
        spec = OrgSpec(org_id=9900 + int(bulk), till=f"fast{int(bulk)}")
        await loyalty_api(
            client,
            database_url,
            spec,
            *rewards,
            campaigns=[{"id": 1, "name": "r"}],
            coupon_series=COUPON_SERIES,
        )
        path = write_csv(tmp_path / f"same{int(bulk)}.csv", lines)
        tally, snap = await import_and_snapshot(database_url, spec, path, bulk=bulk)
        assert tally == (30, 1, 1)
        snapshots.append(snap)
    assert snapshots[0] == snapshots[1]
    assert snapshots[0]["enrolments"][0][2] == 2  # the tier upgrade happened on both paths


# Points, a currency and a tier upgrade: planned in the helper. A coupon: its id comes from
# the database, so those batches are planned in this process as without a helper.
HELPER_REWARDS = {
    "planned-in-helper": [
        {"id": "W", "points": 600},
        {"id": "AC", "alternate_currency": {"identifier": "x", "name": "X", "value": 5}},
    ],
    "with-coupons": WELCOME,
}


@pytest.mark.parametrize("rewards", list(HELPER_REWARDS), ids=list(HELPER_REWARDS))
async def test_a_helper_process_checks_rows_as_the_import_itself_does(
    client: httpx.AsyncClient,
    database_url: str,
    tmp_path: Path,
    rewards: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Batches of 7 checked (and planned) a batch ahead in a spawned process, against the same
    # file checked in line: the same customers, rewards, events, counts and rejects report.
    written_from_plans: list[int] = []
    real_write = register_customers.write_fresh

    async def counted(uow: Any, plan: Any, positions: set[int]) -> Any:
        written_from_plans.append(len(positions))
        return await real_write(uow, plan, positions)

    monkeypatch.setattr(register_customers, "write_fresh", counted)
    lines = [HEADER] + [
        [f"9198113{n:05d}", f"h{n}@example.com", f"H{n}", "Help", "Pune", ""] for n in range(25)
    ]
    lines.append(["9198113" + "00004", "", "Dup", "Row", "", ""])  # a repeat in the file: an update
    lines.append(["bad", "", "X", "Y", "", ""])  # an invalid mobile: rejected
    lines.append(["919811399999", "not-an-email", "Z", "Z", "", ""])  # an invalid email: rejected
    lines.append(["919811399998", "", "W", "W", "", "unknown-gender"])  # a warning, still registered
    snapshots, reports = [], []
    variant = list(HELPER_REWARDS).index(rewards)
    for helper in (True, False):
        spec = OrgSpec(org_id=9910 + 2 * variant + int(helper), till=f"help{variant}{int(helper)}")
        await loyalty_api(client, database_url, spec, *HELPER_REWARDS[rewards], coupon_series=COUPON_SERIES)
        path = write_csv(tmp_path / f"helper{int(helper)}.csv", lines)
        tally, snap = await import_and_snapshot(database_url, spec, path, helper_process=helper)
        assert tally == (26, 1, 2)
        snapshots.append(snap)
        reports.append(rejects_of(path))
    postgres = database_url.startswith("postgresql")
    # Planned ahead only on PostgreSQL (the fast path's store), only where no coupon is issued;
    # 26 new customers, each written from a plan; the repeat and the rejects were not.
    assert sum(written_from_plans) == (26 if postgres and rewards == "planned-in-helper" else 0)
    assert snapshots[0] == snapshots[1]
    assert reports[0] == reports[1]
    assert len(reports[0]) == 3  # the header and the two rejected rows


@pytest.mark.parametrize("helper", [False, True], ids=["in-line", "helper-process"])
async def test_an_interrupted_import_resumes_without_duplicating_anyone(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec, tmp_path: Path, helper: bool
) -> None:
    await loyalty_api(client, database_url, org_spec, *WELCOME)
    lines = [HEADER] + [[f"9198113{n:05d}", "", f"R{n}", "Resume", "", ""] for n in range(25)]
    lines[5][0] = "bad-mobile"
    path = write_csv(tmp_path / "resume.csv", lines)
    seen: list[int] = []

    def crash_after_two_batches(status: ImportStatus) -> None:
        seen.append(status.run.rows)
        if status.run.rows >= 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await run(
            database_url,
            org_spec,
            path,
            batch_size=5,
            progress=crash_after_two_batches,
            helper_process=helper,
        )
    again = await run(database_url, org_spec, path, batch_size=5, helper_process=helper)
    assert again.resumed
    assert (again.run.rows, again.run.registered, again.run.rejected) == (25, 24, 1)
    count = await query(database_url, "SELECT count(*) FROM customers WHERE org_id = :o", o=org_spec.org_id)
    assert count[0][0] == 24
    assert len(rejects_of(path)) == 2  # header and the one bad row, written once
    finished = await run(database_url, org_spec, path)
    assert finished.run.finished
    assert finished.run.rows == 25  # nothing imported a second time
    restarted = await run(database_url, org_spec, path, restart=True)
    assert (restarted.run.registered, restarted.run.updated) == (0, 24)


async def test_json_lines_take_the_v11_item_shape(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec, tmp_path: Path
) -> None:
    await loyalty_api(client, database_url, org_spec)
    path = tmp_path / "c.jsonl"
    path.write_text(
        json.dumps({"mobile": "919811400001", "firstname": "Jo"})
        + "\n[1, 2]\n\n"
        + json.dumps({"email": "j@example.com", "mobile": 919811400002})
        + "\n{broken\n"
    )
    status = await run(database_url, org_spec, path, fmt="jsonl", source="ECOMMERCE")
    assert (status.run.rows, status.run.registered, status.run.rejected) == (4, 2, 2)
    sources = await query(
        database_url, "SELECT DISTINCT source FROM customers WHERE org_id = :o", o=org_spec.org_id
    )
    assert [s[0] for s in sources] == ["ECOMMERCE"]
    problems = [r[2] for r in rejects_of(path)[1:]]
    assert problems[0].endswith("each line must be one JSON object (a v1.1 customer)")
    assert "not readable JSONL" in problems[1]


async def test_what_cannot_be_imported_at_all_is_said_before_anything_is_written(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec, tmp_path: Path
) -> None:
    await loyalty_api(client, database_url, org_spec)
    bad_header = write_csv(tmp_path / "h.csv", [["mobile", "shoe_size"], ["919811500001", "42"]])
    with pytest.raises(FileProblem, match="unknown column 'shoe_size'"):
        await run(database_url, org_spec, bad_header)
    no_identifier = write_csv(tmp_path / "n.csv", [["firstname"], ["Tom"]])
    with pytest.raises(FileProblem, match="no identifier column"):
        await run(database_url, org_spec, no_identifier)
    good = write_csv(tmp_path / "g.csv", [["mobile"], ["919811500001"]])
    with pytest.raises(ImportRefused, match="not loaded"):
        await run(database_url, OrgSpec(org_id=987654, till="x"), good)
    with pytest.raises(ImportRefused, match="not a till"):
        await run(database_url, org_spec, good, till_code="nobody")


def test_the_import_command_prints_its_tally_and_explains_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"MEMBERBASE_DATABASE_URL": f"sqlite:///{tmp_path / 'i.db'}", "COLUMNS": "200"}
    demo = Path(__file__).resolve().parents[1] / "src" / "memberbase" / "demo.yaml"
    assert runner.invoke(app, ["orgs", "load", str(demo)], env=env).exit_code == 0
    path = write_csv(tmp_path / "in.csv", [["mobile", "firstname"], ["919811600001", "Tom"], ["x", "Bad"]])
    result = runner.invoke(app, ["import", str(path), "--org", "50001"], env=env)
    assert result.exit_code == 0, result.output
    assert "2 rows: 1 registered, 0 updated, 1 rejected" in result.output
    assert "in.csv.rejects.csv" in result.output
    again = runner.invoke(app, ["import", str(path), "--org", "50001"], env=env)
    assert "already imported" in again.output
    bad = runner.invoke(app, ["import", str(path), "--org", "50001", "--format", "xml"], env=env)
    assert bad.exit_code == 2
    missing = runner.invoke(app, ["import", str(tmp_path / "nope.csv"), "--org", "50001"], env=env)
    assert missing.exit_code == 2
    assert "is not a file" in missing.output


async def test_a_collision_in_the_fast_path_falls_back_to_row_by_row(
    client: httpx.AsyncClient, database_url: str, org_spec: OrgSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    import memberbase.usecases.bulk_register as bulk

    api = await loyalty_api(client, database_url, org_spec, *WELCOME, campaigns=[{"id": 1, "name": "r"}])
    first = await api.add_one({"mobile": "919811700001"})
    taken = (await api.v2_get(f"/v2/customers/{first['user_id']}")).json()["referralCode"]
    monkeypatch.setattr(bulk, "referral_code", lambda pick: taken)  # every fast row collides
    response = await api.add({"mobile": "919811700002"}, {"mobile": "919811700003"})
    items = response.json()["response"]["customers"]["customer"]
    assert [i["item_status"]["code"] for i in items] == ["1000", "1000"]
    assert [len(i["side_effects"]["effect"]) for i in items] == [2, 2]
    codes = await query(database_url, "SELECT code FROM referral_codes WHERE org_id = :o", o=org_spec.org_id)
    assert len({c[0] for c in codes}) == 3
    events = await query(database_url, "SELECT count(*) FROM outbox WHERE org_id = :o", o=org_spec.org_id)
    assert events[0][0] == 9  # 3 x (registered, points, coupon): none from the rolled-back attempt


def test_a_helper_keeps_what_it_loaded_out_of_the_collectors_sight_after_its_first_batch(
    tmp_path: Path,
) -> None:
    """The collector's full passes walked a helper's whole heap every few batches."""
    path = write_csv(tmp_path / "gc.csv", [["mobile", "firstname"], ["919811300001", "Gc"]])
    org = OrgConfig.model_validate({"id": 1, "name": "o", "base_country": "IN", "tills": [{"code": "t"}]})
    request = ImportRequest(org_id=1, path=path, fmt="csv", rejects_path=tmp_path / "gc.rejects.csv")
    context = RequestContext(till_code="t", request_id="import-gc", now=dt.datetime.now(dt.UTC))
    rows = list(read_rows(path, "csv", 0, 1))
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as helper:
        assert helper.submit(gc.get_freeze_count).result() == 0
        checked, _ = helper.submit(prepare_in_helper, rows, request, org, context, []).result()
        assert [type(c).__name__ for c in checked] == ["ValidDraft"]
        assert helper.submit(gc.get_freeze_count).result() > 0
