"""The shared HTTP layer: rate limiter, retries on each kind of fault, server waits, redaction, landing, cursors."""

from __future__ import annotations

import email.utils
import gzip
import itertools
import json
import logging
import threading
import time

import httpx
import pytest

from cryptopulse.lake import Lake
from cryptopulse.sources.cursors import CursorStore
from cryptopulse.sources.http import ApiClient, RateHeaders, RateLimiter, SourceError
from cryptopulse.sources.landing import PageBatcher, group_by_day, land_json, land_pages
from fakeapi import SECRET, FakeAPI, Faults, Reply


class FakeClock:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


class Sleeps(list):
    """Records every requested sleep; really sleeps at most `cap` seconds so tests stay fast."""

    def __init__(self, cap: float = 0.02) -> None:
        super().__init__()
        self.cap = cap

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(min(seconds, self.cap))


def only_local(client: ApiClient) -> ApiClient:
    def check(request: httpx.Request) -> None:
        assert request.url.host == "127.0.0.1", f"request left the machine: {request.url.host}"

    client._http.event_hooks["request"] = [check]
    return client


def max_in_window(times: list[float], window: float = 60.0) -> int:
    times = sorted(times)
    return max(sum(1 for u in times if t <= u < t + window) for t in times)


@pytest.fixture
def api():
    server = FakeAPI()
    server.route("GET", r"/ok", lambda req: Reply(200, {"ok": True, "n": 42}))
    yield server
    server.close()


def client_for(api: FakeAPI, **options) -> ApiClient:
    defaults = {"timeout": 1.0, "backoff_base": 0.01, "backoff_max": 0.05, "sleep": Sleeps()}
    return only_local(ApiClient(api.url, **{**defaults, **options}))


# -- rate limiter ------------------------------------------------------------------------------------
def test_rate_limiter_never_exceeds_the_rate_and_uses_over_90_percent_of_it():
    clock = FakeClock()
    limiter = RateLimiter(120, clock=clock, sleep=clock.sleep)
    for _ in range(600):
        limiter.acquire()
    times = limiter.calls
    assert max_in_window(times) <= 120
    full_windows = [t for t in times if t + 60 <= times[-1]]
    assert min(sum(1 for u in times if t <= u < t + 60) for t in full_windows) >= 108


class ThreadedClock:
    """A fake clock for several threads: a sleeper wakes at the time it last read plus its wait (the clock jumps there).

    Each read lets the other threads run before it returns, as a preemption right after reading the time would.
    """

    def __init__(self) -> None:
        self.now = 1000.0
        self._read = threading.local()
        self._lock = threading.Lock()

    def __call__(self) -> float:
        self._read.at = self.now
        time.sleep(0.0001)  # off the CPU for a moment: the other threads move on before this one uses the time
        return self._read.at

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now = max(self.now, self._read.at + seconds)
        time.sleep(0)


def test_rate_limiter_is_thread_safe_and_evenly_spaced():
    clock = ThreadedClock()
    limiter = RateLimiter(240, clock=clock, sleep=clock.sleep)  # one call every 0.25 s
    granted: list[int] = []

    def work(name: int) -> None:
        for _ in range(50):
            limiter.acquire()
            granted.append(name)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    times = limiter.calls
    assert len(times) == len(granted) == 200 and set(granted) == {0, 1, 2, 3}
    assert times == sorted(times)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.25 - 1e-9  # never faster than 240/min, whichever thread asks
    assert times[-1] - times[0] <= 199 * 0.25 + 1e-6  # and never slower: no thread's wait is lost


def test_rate_limiter_caps_a_burst_after_idle_time():
    clock = FakeClock()
    limiter = RateLimiter(30, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.sleep(300)  # idle: no credit is saved up for a burst
    for _ in range(31):
        limiter.acquire()
    assert max_in_window(limiter.calls) <= 30


# -- retries -----------------------------------------------------------------------------------------
FAULTS = {
    "429 without Retry-After": Faults.status(429),
    "429 with Retry-After": Faults.status(429, retry_after="0.05"),
    "500": Faults.status(500),
    "502": Faults.status(502),
    "503": Faults.status(503),
    "504": Faults.status(504),
    "hang beyond the timeout": Faults.hang(2.0),
    "truncated JSON": Faults.truncated(),
    "invalid JSON": Faults.invalid_json(),
    "dropped connection": Faults.cut(),
}


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_each_transient_fault_is_retried_until_the_body_arrives(api, fault):
    client = client_for(api)
    api.inject(r"/ok", fault, fault)
    fetched = client.get_json("/ok")
    assert fetched.body == {"ok": True, "n": 42}
    assert client.retries == 2
    assert len(api.requests) == 3


def test_retry_after_seconds_and_http_date_are_honoured(api):
    sleeps = Sleeps()
    client = client_for(api, sleep=sleeps)
    later = email.utils.formatdate(time.time() + 3, usegmt=True)
    api.inject(r"/ok", Faults.status(429, retry_after="7"), Faults.status(503, retry_after=later))
    client.get_json("/ok")
    assert sleeps[0] == 7.0
    assert 1.0 < sleeps[1] <= 3.0


def test_backoff_is_exponential_with_jitter_and_capped(api):
    sleeps = Sleeps()
    client = client_for(api, sleep=sleeps, backoff_base=0.1, backoff_max=0.5, max_attempts=7)
    api.inject(r"/ok", *[Faults.status(500)] * 6)
    client.get_json("/ok")
    assert len(sleeps) == 6
    assert all(0.1 <= s <= 0.5 for s in sleeps)
    assert sleeps[0] < 0.3 and max(sleeps) >= 0.4


def test_it_gives_up_after_max_attempts_naming_the_path_and_status(api):
    client = client_for(api, max_attempts=3)
    api.inject(r"/ok", *[Faults.status(503)] * 5)
    with pytest.raises(SourceError, match=r"GET /ok returned HTTP 503 \(gave up after 3 attempts\)"):
        client.get_json("/ok")
    assert len(api.requests) == 3


def test_a_client_error_is_not_retried(api):
    client = client_for(api)
    with pytest.raises(SourceError, match=r"GET /missing returned HTTP 404"):
        client.get_json("/missing")
    assert len(api.requests) == 1


def test_provider_quota_headers_hold_the_next_request_until_the_reset(api):
    sleeps = Sleeps()
    client = client_for(api, sleep=sleeps, rate_headers=RateHeaders("x-rate-limit-remaining", "x-rate-limit-reset", True))
    reset = int(time.time()) + 30
    api.route("GET", r"/quota", lambda req: Reply(200, {}, {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}))
    client.get_json("/quota")
    assert sleeps == []
    client.get_json("/ok")
    assert len(sleeps) == 1 and 25 < sleeps[0] <= 31


def test_a_429_without_retry_after_waits_for_the_provider_reset(api):
    sleeps = Sleeps()
    client = client_for(api, sleep=sleeps, rate_headers=RateHeaders("x-ratelimit-remaining", "x-ratelimit-reset", False))
    api.inject(r"/ok", Faults.status(429, headers={"x-ratelimit-reset": "12"}))
    client.get_json("/ok")
    assert sleeps == [12.0]


# -- secrets -----------------------------------------------------------------------------------------
def test_secrets_are_redacted_from_metadata_errors_and_logs(api, caplog):
    caplog.set_level(logging.DEBUG)
    api.route("GET", r"/echo", lambda req: Reply(400, {"error": f"bad key {req.headers.get('x-api-key')} / {req.params.get('key')}"}))
    client = client_for(api, secret_headers={"x-api-key": SECRET}, secret_params=["key"])
    client.add_secret(SECRET)
    fetched = client.get_json("/ok", {"key": SECRET, "q": "btc"})
    assert fetched.request["params"] == {"key": "***", "q": "btc"}
    assert api.requests[0].headers["x-api-key"] == SECRET  # it was sent…
    api.inject(r"/ok", *[Faults.status(500)] * 3)
    with pytest.raises(SourceError) as failed:
        client.get_json("/echo", {"key": SECRET})
    assert "GET /echo returned HTTP 400" in str(failed.value)
    assert SECRET not in str(failed.value) and SECRET not in repr(failed.value.__cause__)
    with pytest.raises(SourceError):
        client_for(api, max_attempts=2, secret_headers={"x-api-key": SECRET}).get_json("/ok")
    assert SECRET not in caplog.text  # …but never shown
    assert "GET /ok" in caplog.text


# -- landing and cursors -----------------------------------------------------------------------------
def test_land_json_adds_request_metadata_or_writes_it_beside_an_array(tmp_path):
    lake = Lake(tmp_path)
    request = {"url": "/coins/list", "params": {}, "fetched_at": "2024-01-01T00:00:00Z", "source": "coingecko"}
    land_json(lake, "raw/a/chart.json.gz", {"prices": []}, request)
    land_json(lake, "raw/a/list.json", [{"id": "bitcoin"}], request)
    assert json.loads(gzip.decompress(lake.read_bytes("raw/a/chart.json.gz"))) == {"prices": [], "_request": request}
    assert json.loads(lake.read_bytes("raw/a/list.json")) == [{"id": "bitcoin"}]
    assert json.loads(lake.read_bytes("raw/a/_requests/list.json")) == request
    assert lake.glob("raw/a/*") == ["raw/a/chart.json.gz", "raw/a/list.json"]  # the sidecar is hidden from staging


def test_land_pages_writes_one_line_per_page_and_the_batcher_splits_by_day(tmp_path):
    import datetime as dt

    lake = Lake(tmp_path)
    assert land_pages(lake, "raw/p.jsonl.gz", [{"a": 1}, {"b": 2}]) == 2
    assert gzip.decompress(lake.read_bytes("raw/p.jsonl.gz")).splitlines() == [b'{"a":1}', b'{"b":2}']
    flushed: list[str] = []
    batcher = PageBatcher(lake, "raw/x", "btc", flushed.append, max_pages=2)
    day1, day2 = dt.date(2024, 1, 2), dt.date(2024, 1, 1)
    for key, day in (("9", day1), ("8", day1), ("7", day1), ("6", day2)):
        batcher.add(day, {"k": key}, key=key, marker=key)
    batcher.flush()
    assert batcher.files == ["raw/x/date=2024-01-02/btc-9.jsonl.gz", "raw/x/date=2024-01-02/btc-7.jsonl.gz",
                             "raw/x/date=2024-01-01/btc-6.jsonl.gz"]
    assert flushed == ["8", "7", "6"]


def test_cursor_store_round_trips_and_survives_a_new_instance(tmp_path):
    lake = Lake(tmp_path)
    store = CursorStore(lake, "x")
    store.set("($BTC) lang:en", {"newest": "123"})
    assert CursorStore(lake, "x").get("($BTC) lang:en") == {"newest": "123"}
    assert lake.exists("raw/x/_state/cursors.json") and lake.glob("raw/x/*/*") == []


def test_group_by_day_keeps_order_and_attaches_undated_items_to_their_neighbours():
    import datetime as dt

    d = {"a": dt.date(2024, 1, 2), "b": dt.date(2024, 1, 2), "c": dt.date(2024, 1, 1)}
    assert group_by_day(["?", "a", "b", "?", "c"], d.get, dt.date(2000, 1, 1)) == [
        (dt.date(2024, 1, 2), ["?", "a", "b", "?"]), (dt.date(2024, 1, 1), ["c"])]
    assert group_by_day(["?"], d.get, dt.date(2000, 1, 1)) == [(dt.date(2000, 1, 1), ["?"])]


def test_the_session_refuses_any_host_outside_loopback():
    """The guard installed by conftest: a connection to a public address fails before any packet leaves."""
    import socket

    from offline import LeftTheMachine

    with socket.socket() as sock, pytest.raises(LeftTheMachine, match=r"93\.184\.216\.34"):
        sock.connect(("93.184.216.34", 80))
    with pytest.raises(LeftTheMachine), httpx.Client() as client:
        client.get("http://93.184.216.34/")
