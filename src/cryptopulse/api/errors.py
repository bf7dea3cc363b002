"""Every error as one JSON line `{"error", "status", "field"}`: never a traceback, never a secret, never a 500 page."""

from __future__ import annotations

import logging

import duckdb
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from cryptopulse.config import ConfigError
from cryptopulse.lake import LakeError
from cryptopulse.read import NoPublishedData

log = logging.getLogger("cryptopulse.api")


class ErrorBody(BaseModel):
    """What every error response holds."""

    error: str
    status: int
    field: str | None = None


class ApiError(Exception):
    """An error the client should see as it is."""

    def __init__(self, status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field, self.headers = status, message, field, headers or {}


def error_response(status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(ErrorBody(error=message, status=status, field=field).model_dump(), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into one JSON error."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, e: ApiError) -> JSONResponse:
        return error_response(e.status, e.message, e.field, e.headers)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, e: HTTPException) -> JSONResponse:
        return error_response(e.status_code, str(e.detail), headers=getattr(e, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, e: RequestValidationError) -> JSONResponse:
        first = e.errors()[0]
        field = str(first["loc"][-1]) if first.get("loc") else None
        where = f"{first['loc'][0]} parameter '{field}'" if len(first.get("loc", ())) > 1 else "request"
        return error_response(422, f"{where}: {first['msg']}", field)

    @app.exception_handler(NoPublishedData)
    async def unpublished(_: Request, e: NoPublishedData) -> JSONResponse:
        return error_response(503, str(e), headers={"Retry-After": "60"})

    @app.exception_handler(duckdb.InterruptException)
    async def timed_out(_: Request, e: duckdb.InterruptException) -> JSONResponse:
        return error_response(503, "the query took too long and was stopped: ask for a shorter range", headers={"Retry-After": "1"})

    @app.exception_handler(LakeError)
    @app.exception_handler(ConfigError)
    async def lake_error(_: Request, e: Exception) -> JSONResponse:
        log.error("lake or key file unreadable: %s", e)
        return error_response(503, "the published data or the key file cannot be read right now", headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, e: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal error (logged on the server)")
