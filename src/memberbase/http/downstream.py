"""Reading the downstream switches a caller sends: headers and query flags of both APIs.

`WAIT_FOR_DOWNSTREAM` is written with underscores by the hosted API; proxies such
as nginx drop headers with underscores by default, so the dashed spelling is
accepted too.
"""

from __future__ import annotations

from fastapi import Request

from memberbase.usecases.auditing import Downstream


def _header(request: Request, name: str) -> str | None:
    value = request.headers.get(name)
    if value is None:
        value = request.headers.get(name.replace("_", "-"))
    return None if value is None else value.strip().lower()


def _query_flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").strip().lower() == "true"


def downstream_of(request: Request) -> Downstream:
    return Downstream(
        skip=_header(request, "SKIP-DOWNSTREAM") == "true",
        report=_header(request, "WAIT_FOR_DOWNSTREAM") != "false",
        raw=_query_flag(request, "rawSideEffects"),
        every_program=_query_flag(request, "mlp_single_enroll"),
    )
