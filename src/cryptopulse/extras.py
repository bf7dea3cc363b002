"""Which optional extra (`pip install 'cryptopulse[NAME]'`) provides a module that failed to import."""

from __future__ import annotations

# top-level module -> the extra in pyproject.toml that installs it
EXTRA_OF_MODULE = {
    "pandas": "analysis",
    "statsmodels": "analysis",
    "scipy": "analysis",
    "patsy": "analysis",
    "vaderSentiment": "analysis",
    "matplotlib": "analysis",
    "streamlit": "dashboard",
    "plotly": "dashboard",
    "fastapi": "api",
    "starlette": "api",
    "uvicorn": "api",
    "psycopg": "postgres",
    "pyspark": "spark",
    "s3fs": "s3",
    "aiobotocore": "s3",
    "airflow": "airflow",
}


class MissingExtra(Exception):
    """A command needs an optional dependency that is not installed."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(f"this command needs {module}, which is not installed: pip install 'cryptopulse[{extra}]'")
        self.module, self.extra = module, extra


def missing_extra(error: BaseException) -> MissingExtra | None:
    """The extra to install when `error` (or an error it was raised from) is a missing optional module, else None."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ModuleNotFoundError) and seen.name:
            top = seen.name.split(".")[0]
            if top in EXTRA_OF_MODULE:
                return MissingExtra(top, EXTRA_OF_MODULE[top])
        seen = seen.__cause__ or seen.__context__
    return None
