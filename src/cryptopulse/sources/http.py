"""The HTTP layer every live source shares: a rate limiter, retries with backoff, and errors that never leak secrets."""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

REDACTED = "***"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_SERVER_WAIT_S = 900.0  # the longest Retry-After / reset wait honoured before giving up on a request


class SourceError(Exception):
    """A live source failed in a way the user can act on; the message names the request, never a secret."""


class TransientError(SourceError):
    """A failure worth retrying (429, 5xx, timeout, dropped connection, truncated JSON); `wait` = what the server asked for."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


class RateLimiter:
    """Spaces calls evenly at `calls_per_minute`, and never lets more than that many start in any 60 s window.

    Thread-safe. Even spacing keeps a queue of work close to the full rate instead of bursting and stalling.
    """

    WINDOW_S = 60.0

    def __init__(
        self,
        calls_per_minute: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if calls_per_minute <= 0:
            raise ValueError(f"calls_per_minute must be positive, got {calls_per_minute}")
        self.calls_per_minute = calls_per_minute
        self.interval = self.WINDOW_S / calls_per_minute
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = float("-inf")
        self._recent: deque[float] = deque()
        self.calls: list[float] = []  # grant times, for reports and tests

    def acquire(self) -> None:
        """Block until a call may start, then record it."""
        while True:
            with self._lock:
                now = self._clock()
                while self._recent and self._recent[0] <= now - self.WINDOW_S:
                    self._recent.popleft()
                wait = self._next - now
                if len(self._recent) >= int(self.calls_per_minute):
                    wait = max(wait, self._recent[0] + self.WINDOW_S - now)
                if wait <= 0:
                    self._next = now + self.interval
                    self._recent.append(now)
                    self.calls.append(now)
                    return
            self._sleep(wait)


@dataclass(frozen=True)
class RateHeaders:
    """A provider's quota headers: requests left in the window, and when it resets (epoch seconds or seconds from now)."""

    remaining: str
    reset: str
    reset_is_epoch: bool


@dataclass
class Fetched:
    """One decoded response and the request that produced it (secrets already removed)."""

    body: Any
    status: int
    headers: httpx.Headers
    path: str
    params: dict[str, Any]
    fetched_at: dt.datetime
    source: str

    @property
    def request(self) -> dict[str, Any]:
        """The `_request` metadata landed beside the body."""
        return {
            "url": self.path,
            "params": self.params,
            "fetched_at": self.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "source": self.source,
        }


@dataclass
class _Secrets:
    param_names: frozenset[str] = frozenset()
    values: set[str] = field(default_factory=set)

    def params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {k: (REDACTED if k.lower() in self.param_names else v) for k, v in params.items()}

    def scrub(self, text: str) -> str:
        for value in self.values:
            if value:
                text = text.replace(value, REDACTED)
        return text


class _ScrubSecrets(logging.Filter):
    """Removes registered secret values from records of the HTTP libraries' own loggers (httpx logs full URLs)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = message
        for value in list(self.values):
            scrubbed = scrubbed.replace(value, REDACTED)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


_SCRUB = _ScrubSecrets()
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).addFilter(_SCRUB)


class ApiClient:
    """An `httpx.Client` with a rate limit, tenacity retries and redaction; sources subclass it per provider.

    Subclasses set `source`, add their auth headers through `secret_headers` (redacted everywhere) and may
    override `classify` to turn provider-specific responses (plan limits, expired tokens) into errors.
    """

    source = "http"

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        secret_headers: Mapping[str, str] | None = None,
        secret_params: Iterable[str] = (),
        timeout: float = 30.0,
        calls_per_minute: float | None = None,
        rate_headers: RateHeaders | None = None,
        max_attempts: int = 6,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        max_server_wait: float = MAX_SERVER_WAIT_S,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.log = logging.getLogger(f"cryptopulse.sources.{self.source}")
        secret_headers = dict(secret_headers or {})
        self._secrets = _Secrets(param_names=frozenset(p.lower() for p in secret_params))
        for value in secret_headers.values():
            self.add_secret(value)
        self._http = httpx.Client(base_url=base_url, timeout=timeout, headers={**(headers or {}), **secret_headers})
        self.base_url = base_url
        self.timeout = timeout
        self.limiter = RateLimiter(calls_per_minute, clock=clock, sleep=sleep) if calls_per_minute else None
        self.rate_headers = rate_headers
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_server_wait = max_server_wait
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._blocked_until = float("-inf")
        self._block_lock = threading.Lock()
        self.retries = 0
        self.requests = 0

    # -- public --------------------------------------------------------------------------------
    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Fetched:
        return self.request_json("GET", path, params=params)

    def request_json(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fetched:
        """Send one request, retrying transient failures; return the decoded JSON body or raise SourceError."""
        params = {k: v for k, v in (params or {}).items() if v is not None}
        for name, value in params.items():
            if name.lower() in self._secrets.param_names:
                self.add_secret(str(value))
        path = httpx.URL(url).path if "://" in url else url
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(TransientError),
            sleep=self._sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt(method, url, path, params, data, auth, headers)
        except TransientError as e:
            raise SourceError(f"{e} (gave up after {self.max_attempts} attempts)") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def add_secret(self, value: str) -> None:
        """Register a value (e.g. an OAuth token obtained at runtime) to redact from every message."""
        if value:
            self._secrets.values.add(value)
            _SCRUB.values.add(value)

    def redact(self, text: str) -> str:
        return self._secrets.scrub(text)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- hooks ---------------------------------------------------------------------------------
    def classify(self, response: httpx.Response, method: str, path: str) -> SourceError | None:
        """A provider-specific error for `response`, or None for the default handling."""
        return None

    # -- internals -----------------------------------------------------------------------------
    def _attempt(
        self,
        method: str,
        url: str,
        path: str,
        params: dict[str, Any],
        data: Mapping[str, str] | None,
        auth: httpx.Auth | tuple[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> Fetched:
        what = f"{self.source}: {method} {path}"
        self._wait_for_quota()
        if self.limiter:
            self.limiter.acquire()
        self.requests += 1
        self.log.debug("%s %s", what, self._secrets.params(params))
        try:
            response = self._http.request(method, url, params=params, data=data, auth=auth, headers=headers)
        except httpx.TimeoutException:
            raise TransientError(f"{what} timed out after {self.timeout:g} s") from None
        except httpx.TransportError as e:
            raise TransientError(f"{what} failed: connection error ({type(e).__name__})") from None
        self._note_quota(response)
        status = response.status_code
        if (error := self.classify(response, method, path)) is not None:
            raise error
        if status in RETRY_STATUSES:
            raise TransientError(f"{what} returned HTTP {status}", wait=self._server_wait(response))
        if status >= 400:
            raise SourceError(f"{what} returned HTTP {status}{self._detail(response)}")
        try:
            body = response.json()
        except ValueError:
            raise TransientError(f"{what} returned invalid or truncated JSON (HTTP {status})") from None
        return Fetched(
            body=body,
            status=status,
            headers=response.headers,
            path=path,
            params=self._secrets.params(params),
            fetched_at=dt.datetime.now(dt.UTC),
            source=self.source,
        )

    def _detail(self, response: httpx.Response) -> str:
        text = " ".join(response.text.split())[:200]
        return f": {self.redact(text)}" if text else ""

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, TransientError) and error.wait is not None:
            return min(error.wait, self.max_server_wait)
        backoff = wait_exponential_jitter(multiplier=self.backoff_base, max=self.backoff_max, jitter=self.backoff_base)
        return backoff(state)

    def _before_sleep(self, state: RetryCallState) -> None:
        self.retries += 1
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        self.log.warning("%s; retry %d in %.1f s", self.redact(str(error)), state.attempt_number, wait)

    def _server_wait(self, response: httpx.Response) -> float | None:
        """Seconds the server asked us to wait: Retry-After (seconds or HTTP date), else the provider's reset header."""
        retry_after = response.headers.get("retry-after")
        if retry_after:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                pass
            try:
                when = email.utils.parsedate_to_datetime(retry_after)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                return max(0.0, when.timestamp() - self._wall_clock())
        return self._reset_delay(response)

    def _reset_delay(self, response: httpx.Response) -> float | None:
        if self.rate_headers is None or self.rate_headers.reset not in response.headers:
            return None
        try:
            reset = float(response.headers[self.rate_headers.reset])
        except ValueError:
            return None
        delay = reset - self._wall_clock() if self.rate_headers.reset_is_epoch else reset
        return max(0.0, delay)

    def _note_quota(self, response: httpx.Response) -> None:
        """When the provider says the window's quota is used up, hold every request until it resets."""
        if self.rate_headers is None or response.status_code == 429:
            return
        try:
            remaining = float(response.headers.get(self.rate_headers.remaining, "1"))
        except ValueError:
            return
        delay = self._reset_delay(response)
        if remaining < 1 and delay:
            with self._block_lock:
                self._blocked_until = max(self._blocked_until, self._clock() + min(delay, self.max_server_wait))

    def _wait_for_quota(self) -> None:
        with self._block_lock:
            wait = self._blocked_until - self._clock()
        if wait > 0:
            self.log.info("%s: rate limit quota used up; waiting %.1f s for the reset", self.source, wait)
            self._sleep(wait)
