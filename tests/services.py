"""Real servers for the tests (a pytest plugin): PostgreSQL 15, an S3 server (moto) and a local Spark session, started
once per session (under pytest-xdist: once per worker that needs them).

PostgreSQL runs from the Debian package as the `postgres` user (initdb/pg_ctl refuse root), with its data
and socket in a temporary folder and fsync off; moto_server listens on 127.0.0.1. A missing server is a
failure, never a skip: `make test` installs PostgreSQL first (`make services`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

PG_BIN = Path(os.environ.get("CRYPTOPULSE_PG_BIN", "/usr/lib/postgresql/15/bin"))
S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*args: str) -> subprocess.CompletedProcess[str]:
    command = list(args) if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--", *args]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} failed ({done.returncode}): {(done.stderr or done.stdout).strip()}")
    return done


@dataclass(frozen=True)
class PostgresServer:
    """A running PostgreSQL cluster: connect as its superuser over TCP on 127.0.0.1."""

    port: int
    user: str = "postgres"

    def url(self, database: str = "postgres", user: str | None = None) -> str:
        return f"postgresql://{user or self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database (C collation, UTF-8, as the engine requires); returns its URL."""
        import psycopg

        name = name or "t_" + uuid.uuid4().hex[:10]
        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\' LC_COLLATE \'C\' LC_CTYPE \'C.UTF-8\'')
        return self.url(name)


FAST_UNSAFE = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def start_postgres(root: Path, settings: str = FAST_UNSAFE) -> tuple[PostgresServer, Path]:
    """initdb + pg_ctl start in `root` (a folder the postgres user can reach); returns the server and its data folder.

    `settings` are server options; the default trades durability for speed, as tests may.
    """
    initdb = PG_BIN / "initdb"
    if not initdb.exists():
        raise RuntimeError(f"{initdb} not found: install PostgreSQL 15 (`make services` or `apt-get install -y postgresql`)")
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    _as_postgres(str(initdb), "-D", str(data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8",
                 "--lc-collate=C")
    port = free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 {settings}"
    _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-o", options, "-w", "start")
    return PostgresServer(port), data


def stop_postgres(data: Path) -> None:
    _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")


@dataclass(frozen=True)
class S3Server:
    """A moto S3 server on 127.0.0.1; `env` holds what clients need (endpoint and dummy credentials)."""

    endpoint: str

    @property
    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint, **S3_CREDENTIALS}

    def create_bucket(self, name: str | None = None) -> str:
        """A new empty bucket; returns its name."""
        import boto3

        name = name or "b-" + uuid.uuid4().hex[:12]
        boto3.client("s3", endpoint_url=self.endpoint, **_boto_credentials()).create_bucket(Bucket=name)
        return name


def _boto_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "region_name": S3_CREDENTIALS["AWS_DEFAULT_REGION"],
    }


def start_moto(log: Path) -> tuple[S3Server, subprocess.Popen[bytes]]:
    server = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
    if server is None:
        raise RuntimeError("moto_server not found: install the test extras (`pip install -e '.[all]'`)")
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}; see {log}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return S3Server(f"http://127.0.0.1:{port}"), process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"moto_server did not listen on 127.0.0.1:{port} within 30 s; see {log}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """PostgreSQL 15 for the whole session (stopped at the end)."""
    root = Path(tempfile.mkdtemp(prefix="cryptopulse-pg-"))
    server, data = start_postgres(root)
    try:
        yield server
    finally:
        stop_postgres(data)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A moto S3 server for the whole session (stopped at the end)."""
    server, process = start_moto(tmp_path_factory.mktemp("moto") / "moto.log")
    try:
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The S3 server's endpoint and credentials in the environment (for s3fs, DuckDB and the CLI)."""
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    return s3_server


# Spark sized for test data: loopback only, no UI, 2 shuffle partitions (not 200), warnings only in the log, and a
# driver JVM that compiles with C1 only (short runs: ~15 % faster here, and no C2 threads competing for the 2 cores)
# The tests' Spark: what a local run uses (LOCAL_CONF), with a JVM tuned for short jobs and a small shuffle.
TEST_SPARK_CONF = {
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m",
    "spark.sql.shuffle.partitions": "2",
    "spark.log.level": "WARN",
}


def spark_conf() -> dict[str, str]:
    """LOCAL_CONF (loopback, no UI, adaptive execution, driver-side listing) plus TEST_SPARK_CONF."""
    from cryptopulse.spark.session import LOCAL_CONF

    return {**LOCAL_CONF, **TEST_SPARK_CONF}


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """One local Spark session (local[2], `spark_conf()`) for the whole session; the Spark engine picks up the active one."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[2]")
    for key, value in spark_conf().items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    yield session
    session.stop()


@pytest.fixture(scope="session")
def spark_conf_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SPARK_CONF_DIR whose spark-defaults.conf holds `spark_conf()`, for applications started with spark-submit."""
    folder = tmp_path_factory.mktemp("spark-conf")
    (folder / "spark-defaults.conf").write_text("".join(f"{key} {value}\n" for key, value in spark_conf().items()))
    return folder
