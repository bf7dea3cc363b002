"""The spark-submit entry point: a pipeline run over an interval of days, the models running on Spark.

    spark-submit [--master …] "$(python -c 'import cryptopulse.spark.job as j; print(j.__file__)')" \\
        --lake s3a://bucket/lake --warehouse s3a://bucket/warehouse --start 2024-01-01 --end 2024-01-08

`--steps` picks what runs (default `stage,build,publish`): staging runs in the driver (DuckDB), the models,
gates and exports on the cluster. Exit codes as the CLI: 0 ok, 1 a gate failed (nothing published), 2 a user error.
"""

from __future__ import annotations

import argparse
import json
import sys

STEPS = ("stage", "build", "publish")


def main(argv: list[str] | None = None) -> int:
    # imported here, so that locating this file (`job.__file__`, e.g. while Airflow parses a DAG) stays cheap
    from cryptopulse.cli_support import interval_from, user_error_types
    from cryptopulse.config import load_settings
    from cryptopulse.pipeline import GateFailed, build_step, publish_step, run, stage_step

    args = _parser().parse_args(argv)
    steps = tuple(s.strip() for s in args.steps.split(","))
    try:
        if unknown := set(steps) - set(STEPS):
            raise ValueError(f"--steps: unknown step(s) {', '.join(sorted(unknown))}; choose from {', '.join(STEPS)}")
        settings = load_settings(args.config, lake=args.lake, warehouse=args.warehouse, engine="spark")
        interval = interval_from(args.start, args.end)
        if steps == STEPS:
            summary = run(settings, interval).as_dict()
        else:
            summary = {}
            if "stage" in steps:
                staged, interval = stage_step(settings, interval)
                summary["staged"] = {s.dataset: s.staged for s in staged}
            if "build" in steps:
                interval, models, checks = build_step(settings, interval)
                summary["models"] = {m.name: m.rows_written for m in models}
                summary["checks_passed"] = len(checks)
            if "publish" in steps:
                summary["published"] = {t.name: t.rows for t in publish_step(settings, interval)}
    except GateFailed as e:
        print(f"cryptopulse: {e}", file=sys.stderr)
        return 1
    except (*user_error_types(), ValueError) as e:
        print(f"cryptopulse: error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(summary, default=str))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cryptopulse.spark", description="Run cryptopulse with the models on Spark.")
    parser.add_argument("--lake", help="lake root: a folder, s3://… or s3a://… (default: $CRYPTOPULSE_LAKE)")
    parser.add_argument("--warehouse", help="Spark warehouse folder or URL (default: $CRYPTOPULSE_WAREHOUSE, x.duckdb → x.spark)")
    parser.add_argument("--start", help="first day (YYYY-MM-DD), inclusive; with --end")
    parser.add_argument("--end", help="day after the last (YYYY-MM-DD), exclusive; with --start")
    parser.add_argument("--steps", default=",".join(STEPS), help="comma-separated steps to run (default: all)")
    parser.add_argument("--config", help="TOML settings file")
    return parser


if __name__ == "__main__":
    sys.exit(main())
