"""The FastAPI application: settings, the version holder, keys and limits on `app.state.api`; `/health` and `/v1`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Security
from fastapi.middleware.cors import CORSMiddleware
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from cryptopulse.api import errors, schemas
from cryptopulse.api.errors import ApiError, ErrorBody
from cryptopulse.api.keys import KeyRing
from cryptopulse.api.ratelimit import RateLimiter, retry_after
from cryptopulse.api.routes import build_router
from cryptopulse.api.settings import ApiSettings, load_api_settings
from cryptopulse.api.versions import Versions
from cryptopulse.config import Settings, load_settings
from cryptopulse.lake import Lake

API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key from `cryptopulse api-key create NAME`.")
BEARER = HTTPBearer(auto_error=False, description="The same API key, as `Authorization: Bearer <key>`.")
log = logging.getLogger("cryptopulse.api")


@dataclass
class ApiState:
    """What every request shares: the settings, the published version holder, the key ring and the rate limiter."""

    settings: ApiSettings
    versions: Versions
    keys: KeyRing
    limiter: RateLimiter
    freshness_hours: int


def create_app(settings: Settings | None = None, api_settings: ApiSettings | None = None) -> FastAPI:
    """The app over `settings.lake` (default: from the environment and cryptopulse.toml, as the CLI reads them)."""
    settings = settings or load_settings()
    api_settings = api_settings or load_api_settings()
    lake = Lake(settings.lake)
    state = ApiState(
        api_settings,
        Versions(lake, api_settings.version_check, api_settings.threads, api_settings.memory_tables),
        KeyRing(lake, api_settings.key_refresh),
        RateLimiter(api_settings.rate, api_settings.burst),
        settings.freshness_hours,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state.versions.current()  # open the published version now, not on the first request
        yield
        state.versions.close()

    app = FastAPI(
        title="cryptopulse read API",
        version="1",
        summary="Market statistics, social sentiment and analysis results of the published version, read-only.",
        lifespan=lifespan,
    )
    app.state.api = state
    errors.install(app)
    if api_settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(api_settings.cors_origins), allow_methods=["GET"],
                           allow_headers=["X-API-Key", "Authorization", "If-None-Match"],
                           expose_headers=["X-Published-Version", "ETag", "Retry-After"])

    @app.get("/health", response_model=schemas.Health, summary="Liveness, and the published version new requests get")
    def health() -> schemas.Health:
        return schemas.Health(status="ok", version=state.versions.current())

    app.include_router(build_router(api_settings.max_page_size), dependencies=[Depends(caller)],
                       responses={401: {"model": ErrorBody}, 429: {"model": ErrorBody}})
    return app


def caller(
    request: Request,
    api_key: Annotated[str | None, Security(API_KEY)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
) -> str:
    """Who is asking (a key id, or the client address when anonymous reads are on), after spending a rate-limit token."""
    state: ApiState = request.app.state.api
    secret = api_key or (bearer.credentials if bearer else None)
    if secret:
        key = state.keys.verify(secret)
        if key is None:
            raise ApiError(401, "invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"})
        who = f"key:{key.key_id}"
    elif state.settings.anonymous:
        who = f"addr:{request.client.host if request.client else '?'}"
    else:
        raise ApiError(401, "an API key is required: send it as X-API-Key or Authorization: Bearer",
                       headers={"WWW-Authenticate": "Bearer"})
    wait = state.limiter.take(who)
    if wait:
        raise ApiError(429, f"rate limit: {state.settings.rate:g} requests/s, bursts of {state.settings.burst}",
                       headers={"Retry-After": retry_after(wait)})
    return who
