"""The one SparkSession of a process: the cluster's under spark-submit, a local one otherwise; both set to UTC."""

from __future__ import annotations

import os
import re

from pyspark.sql import SparkSession

from cryptopulse.config import ConfigError, Settings

# Session settings every run needs, whoever started the session (they are runtime SQL settings).
REQUIRED_SQL_CONF = {
    "spark.sql.session.timeZone": "UTC",
    # DuckDB's TIMESTAMP has no time zone; Spark's TIMESTAMP_NTZ is the same type (and Parquet type).
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.parquet.compression.codec": "zstd",
}
# Defaults for a session this process starts itself (not under spark-submit): one machine, loopback only.
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    # adaptive execution (spark.sql.shuffle.partitions: 4 per core, below): shuffles are coalesced to ~64 MB
    # partitions, as the data of a run is small next to Spark's defaults and every task has a fixed cost
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.parallelismFirst": "false",
    # the staged zone is one small file per day: pack many into one scan task rather than ~30
    "spark.sql.files.openCostInBytes": "1048576",
    # list a table's partitions in the driver rather than with a Spark job (fast on one machine)
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
    "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
}


def spark_session(settings: Settings) -> SparkSession:
    """The active session, or a new local one sized by the settings (threads, memory limit, temp directory)."""
    session = SparkSession.getActiveSession()
    if session is None:
        builder = SparkSession.builder.appName("cryptopulse")
        if not _master_given():
            builder = builder.master(f"local[{settings.threads or '*'}]")
            for key, value in local_conf(settings).items():
                builder = builder.config(key, value)
        session = builder.getOrCreate()
        if not _master_given():
            session.sparkContext.setLogLevel("ERROR")
    for key, value in REQUIRED_SQL_CONF.items():
        session.conf.set(key, value)
    return session


def local_conf(settings: Settings) -> dict[str, str]:
    """`LOCAL_CONF` plus shuffle partitions (4 per core), the driver memory and spill directory from the settings."""
    conf = dict(LOCAL_CONF)
    conf["spark.sql.shuffle.partitions"] = str(4 * (settings.threads or os.cpu_count() or 1))
    if settings.memory_limit:
        conf["spark.driver.memory"] = spark_memory(settings.memory_limit)
    if settings.temp_directory:
        conf["spark.local.dir"] = settings.temp_directory
    return conf


def spark_memory(limit: str) -> str:
    """A DuckDB-style size ('8GB', '512 MiB') as a JVM size ('8g', '512m')."""
    m = re.fullmatch(r"\s*(\d+)\s*([kmgt])i?b?\s*", limit, re.I)
    if not m:
        raise ConfigError(f"memory limit '{limit}' is not a size such as '8GB' or '512MB'")
    return f"{m.group(1)}{m.group(2).lower()}"


def _master_given() -> bool:
    """True under spark-submit, or when PYSPARK_SUBMIT_ARGS names a master: then the cluster decides."""
    return "PYSPARK_GATEWAY_PORT" in os.environ or "--master" in os.environ.get("PYSPARK_SUBMIT_ARGS", "")
