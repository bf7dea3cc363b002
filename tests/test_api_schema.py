"""Schemathesis against the API's own OpenAPI schema on a small published lake: no 5xx, every answer as documented."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from cryptopulse.api.app import create_app
from cryptopulse.api.keys import create_key
from cryptopulse.api.settings import load_api_settings
from cryptopulse.config import Settings
from cryptopulse.lake import Lake
from test_api import api_lake  # noqa: F401  (the shared published lake)

EXAMPLES = 12  # per operation: the whole run stays within seconds


def test_every_operation_answers_as_documented(api_lake: Settings) -> None:  # noqa: F811
    app = create_app(api_lake, load_api_settings({}, rate=1e6, burst=1_000_000))  # limits are tested on their own
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    key = {"X-API-Key": create_key(Lake(api_lake.lake), "schemathesis")[1]}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def answers_as_documented(case: schemathesis.Case) -> None:
            # OpenAPI cannot say "end after start" or "a known coin": a schema-valid request may rightly get 422 or 404
            case.call_and_validate(headers=key, excluded_checks=[schemathesis.checks.positive_data_acceptance])

        answers_as_documented()
