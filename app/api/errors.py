"""Errors in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from app.errors import (
    ContextOverflowError,
    ModelNotFoundError,
    NotAChatModelError,
    NotFoundError,
    SpecialistError,
)


class ApiError(Exception):
    """An error response: HTTP ``status`` and OpenAI's error fields."""

    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code = status, message, type_, code
        self.param, self.headers = param, headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def from_lantern(exc: Exception) -> ApiError:
    """The response for a ``LanternError`` raised while serving a request."""
    text = str(exc)
    if isinstance(exc, ModelNotFoundError | SpecialistError):
        return ApiError(404, text, code="model_not_found", param="model")
    if isinstance(exc, NotFoundError):
        return ApiError(404, text, code="not_found")
    if isinstance(exc, ContextOverflowError):
        return ApiError(400, text, code="context_length_exceeded", param="messages")
    if isinstance(exc, NotAChatModelError):
        return ApiError(400, text, code="model_not_supported", param="model")
    return ApiError(400, text, code="lantern_error")


def busy(model: str, retry_after: int) -> ApiError:
    return ApiError(
        429,
        f"The model {model} has as many requests as it holds (api.queue_size); "
        f"retry in {retry_after} s.",
        type_="rate_limit_error",
        code="queue_full",
        headers={"Retry-After": str(retry_after)},
    )
