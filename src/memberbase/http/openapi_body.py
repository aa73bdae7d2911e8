"""Declaring a hand-read request body in /openapi.json from the Pydantic model that describes it.

Routes that read their body themselves (bounded size, JSON or XML, per-item failures)
would show no body to tools; `request_body(model)` is their `openapi_extra`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

JSON_AND_XML = ("application/json", "application/xml")


def inlined_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its `$defs` written in place (the models are not recursive)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    inlined: dict[str, Any] = inline(schema)
    return inlined


def request_body(
    model: type[BaseModel], media_types: tuple[str, ...] = ("application/json",)
) -> dict[str, Any]:
    schema = inlined_schema(model)
    return {"requestBody": {"required": True, "content": {m: {"schema": schema} for m in media_types}}}
