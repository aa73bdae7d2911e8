"""v1.1 in XML: the hosted v1.1 API takes and returns its envelope as XML too.

The format of the answer: `format=xml|json` when given; else XML when the body is
XML or the client accepts XML and not JSON; else JSON. Parsing refuses entity
declarations (no XXE, no entity expansion bombs).
"""

from __future__ import annotations

from typing import Any

import xmltodict
from starlette.requests import Request
from starlette.responses import Response

XML_TYPES = ("application/xml", "text/xml")


def _media(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def body_is_xml(request: Request) -> bool:
    media = _media(request.headers.get("content-type"))
    return media in XML_TYPES or media.endswith("+xml")


def wants_xml(request: Request) -> bool:
    wanted = request.query_params.get("format", "").lower()
    if wanted in ("xml", "json"):
        return wanted == "xml"
    accept = (request.headers.get("accept") or "").lower()
    accepts_xml = "xml" in accept and "json" not in accept
    return body_is_xml(request) or accepts_xml


def parse_xml(raw: bytes) -> Any:
    """The XML body as the same nested dicts a JSON body gives; ValueError when malformed."""
    try:
        return xmltodict.parse(raw, disable_entities=True)
    except Exception as exc:  # expat raises its own error type; all of them mean "not XML we take"
        raise ValueError(str(exc)) from exc


class XmlResponse(Response):
    media_type = "application/xml"

    def render(self, content: Any) -> bytes:
        text: str = xmltodict.unparse(content, full_document=True)
        return text.encode("utf-8")
