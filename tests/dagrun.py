"""Real Airflow for the DAG tests (a pytest plugin): one throwaway AIRFLOW_HOME per session, migrated once and set
before airflow is first imported; the DAG parsed by DagBag; runs via `dag.test()`."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

DAGS = Path(__file__).resolve().parents[1] / "dags"
DAG_ID = "cryptopulse_daily"
AIRFLOW = Path(sys.executable).parent / "airflow"


def airflow_env(home: Path) -> dict[str, str]:
    """What must be set before `airflow` is first imported (it reads its home and config at import)."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "CRYPTOPULSE_AIRFLOW_RETRIES": "2",
        "CRYPTOPULSE_AIRFLOW_RETRY_DELAY_S": "1",  # retries wait 1-2 s, then 2-4 s, in tests
    }


def migrate(env: dict[str, str]) -> None:
    """`airflow db migrate` into the SQLite database of the test AIRFLOW_HOME (~5 s)."""
    if "airflow" in sys.modules and os.environ.get("AIRFLOW_HOME") != env["AIRFLOW_HOME"]:
        raise RuntimeError("airflow was imported before the test AIRFLOW_HOME was set")
    done = subprocess.run([str(AIRFLOW), "db", "migrate"], env={**os.environ, **env}, capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{done.stderr[-2000:]}")


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The session's AIRFLOW_HOME, migrated, with `airflow_env` in the environment until the session ends.

    Every DAG test module asks for it, in any order: airflow reads its home once, at its first import.
    """
    home = tmp_path_factory.mktemp("airflow-home")
    env = airflow_env(home)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        migrate(env)
        yield home


def load_dag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    if bag.import_errors:
        raise AssertionError(f"DAG import errors: {bag.import_errors}")
    return bag.dags[DAG_ID]


def logical_date_for(day: dt.date) -> dt.datetime:
    """The logical date of a manual run over `day`: the 07:00 tick that ends its data interval."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(7), dt.UTC)


@dataclass
class Run:
    run_id: str
    state: str
    tasks: dict[str, tuple[str, int]]  # task id (mapped: "id[i]") → (state, try number)
    interval: tuple[dt.datetime, dt.datetime]

    def state_of(self, task_id: str) -> str:
        return self.tasks[task_id][0]


def run_day(dag: Any, day: dt.date) -> Run:
    """One `dag.test()` run over `day` (tasks run in this process, so they see this process's environment)."""
    dagrun = dag.test(logical_date=logical_date_for(day))
    tasks = {}
    for ti in dagrun.get_task_instances():
        key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        tasks[key] = (str(ti.state), ti.try_number)
    return Run(dagrun.run_id, str(dagrun.state), tasks, (dagrun.data_interval_start, dagrun.data_interval_end))


def asset_events(uri: str, run_id: str) -> list[dict]:
    """The `extra` of each event the run emitted for the asset `uri`, from Airflow's metadata database."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        query = (select(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
                 .where(AssetModel.uri == uri, AssetEvent.source_run_id == run_id))
        return [event.extra for event in session.scalars(query)]
