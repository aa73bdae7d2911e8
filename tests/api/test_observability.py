"""Request ids, JSON access logs without secrets, and Prometheus metrics."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from memberbase.app import create_app
from memberbase.observability import JsonFormatter, Metrics, configure_logging
from memberbase.settings import Settings
from tests.support import PASSWORD, Api, OrgSpec, basic, envelope, load_org, serving

pytestmark = pytest.mark.anyio


async def test_metrics_count_requests_registrations_and_codes(api: Api) -> None:
    await api.add({"mobile": "919876600001"}, {"mobile": "bad"})
    await api.add({"mobile": "919876600001"})
    text = (await api.client.get("/metrics")).text
    assert 'memberbase_http_requests_total{method="POST",route="/v1.1/customer/add",status="201"} 1.0' in text
    assert 'memberbase_registrations_total{api="v1.1",outcome="registered"} 1.0' in text
    assert 'memberbase_registrations_total{api="v1.1",outcome="updated"} 1.0' in text
    assert 'memberbase_result_codes_total{api="v1.1",code="1006"} 1.0' in text
    assert 'memberbase_http_request_seconds_bucket{le="0.5",method="POST",route="/v1.1/customer/add"}' in text


def test_each_request_is_counted_and_timed_under_its_own_labels() -> None:
    metrics = Metrics()
    for status in (200, 200, 404):
        metrics.observe_request("GET", "/v2/customers/lookup", status, 0.0)
    value = metrics.registry.get_sample_value
    route = {"method": "GET", "route": "/v2/customers/lookup"}
    assert value("memberbase_http_requests_total", {**route, "status": "200"}) == 2
    assert value("memberbase_http_requests_total", {**route, "status": "404"}) == 1
    assert value("memberbase_http_request_seconds_count", route) == 3


async def test_health_answers(api: Api) -> None:
    assert (await api.client.get("/health")).json() == {"status": "ok"}


async def test_access_log_is_json_with_the_request_id_and_no_secrets(
    database_url: str, org_spec: OrgSpec, caplog: pytest.LogCaptureFixture
) -> None:
    org_spec.overrides = {
        "api_clients": [
            {"key": f"log-{org_spec.org_id}", "secret": "Top-Secret-99", "default_till": org_spec.till}
        ]
    }
    await load_org(database_url, org_spec)
    app = create_app(Settings(database_url=database_url, access_log=True))
    transport = httpx.ASGITransport(app=app)
    with caplog.at_level(logging.INFO, logger="memberbase"):
        async with (
            serving(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as c,
        ):
            token_response = await c.post(
                "/v3/oauth/token/generate", json={"key": f"log-{org_spec.org_id}", "secret": "Top-Secret-99"}
            )
            token = token_response.json()["data"]["accessToken"]
            response = await c.post(
                "/v1.1/customer/add",
                json=envelope({"mobile": "919876600002"}),
                headers={**basic(org_spec.till), "X-CAP-API-OAUTH-TOKEN": token},
            )
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "memberbase.access"]
    entries = [json.loads(line) for line in lines]
    add = next(e for e in entries if e["route"] == "/v1.1/customer/add")
    assert add["request_id"] == response.headers["X-Cap-Requestid"]
    assert (add["method"], add["status"]) == ("POST", 200)
    everything = "\n".join(lines)
    for secret in ("Top-Secret-99", PASSWORD, token, "Basic "):
        assert secret not in everything


def test_the_json_formatter_keeps_extra_fields() -> None:
    record = logging.LogRecord("memberbase.x", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    record.org = 7
    entry: dict[str, Any] = json.loads(JsonFormatter().format(record))
    assert (entry["message"], entry["org"], entry["level"]) == ("hello you", 7, "INFO")


def test_fastapis_opentelemetry_bridge_is_off() -> None:
    # memberbase has its own metrics and request ids; FastAPI's bridge would otherwise ask on
    # every request whether an OpenTelemetry provider has been configured.
    app = create_app(Settings(database_url="sqlite:///unused.db"))
    assert {k: app._telemetry[k] for k in ("tracing", "metrics", "logs")} == {  # type: ignore[attr-defined]
        "tracing": False,
        "metrics": False,
        "logs": False,
    }


def test_every_librarys_log_is_one_json_line_with_its_traceback_a_field(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging()
    try:
        raise ConnectionRefusedError("nats: no servers available for connection")
    except ConnectionRefusedError:
        logging.getLogger("nats.aio.client").error("nats: encountered error", exc_info=True)
    logging.getLogger("asyncpg.pool").warning("connection lost")
    logging.getLogger("sqlalchemy.engine").info("below the library threshold")
    lines = capsys.readouterr().err.strip().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["logger"] for e in entries] == ["nats.aio.client", "asyncpg.pool"]
    assert "ConnectionRefusedError" in entries[0]["exception"]


async def test_a_documented_500_is_told_from_an_unexpected_error(
    database_url: str, org_spec: OrgSpec, caplog: pytest.LogCaptureFixture
) -> None:
    await load_org(database_url, org_spec)
    app = create_app(Settings(database_url=database_url, access_log=True))

    async def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/v1.1/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with caplog.at_level(logging.INFO, logger="memberbase"):
        async with serving(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            failed = await c.post(
                "/v1.1/customer/add", json=envelope({"mobile": "12"}), headers=basic(org_spec.till)
            )
            assert failed.status_code == 500  # v1.1's documented "all items failed"
            assert app.state.metrics.unexpected._value.get() == 0
            assert (await c.get("/v1.1/boom")).status_code == 500
            assert app.state.metrics.unexpected._value.get() == 1
    entries = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "memberbase.access"]
    assert [(e["route"], e["status"], e["unexpected"]) for e in entries] == [
        ("/v1.1/customer/add", 500, False),
        ("/v1.1/boom", 500, True),
    ]
