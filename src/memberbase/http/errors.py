"""Request-level failures raised by the HTTP edge and rendered per API version."""

from __future__ import annotations

from memberbase.domain.codes import Code


class ApiError(Exception):
    """A request that cannot be served: `code` from the codes table, `http_status` for the wire."""

    def __init__(
        self,
        code: Code,
        http_status: int,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
        args: tuple[object, ...] = (),
    ) -> None:
        super().__init__(code.message)
        self.code = code
        self.args_ = args
        self.http_status = http_status
        self.detail = detail
        self.headers = headers or {}

    @property
    def message(self) -> str:
        text = self.code.format(*self.args_)
        return f"{text}: {self.detail}" if self.detail else text
