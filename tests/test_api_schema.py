"""Schemathesis against the API's own OpenAPI schema on a small published lake: no 5xx, every answer as documented."""

from __future__ import annotations

from collections import defaultdict

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.strategies import SearchStrategy

from cryptopulse.api.app import create_app
from cryptopulse.api.keys import create_key
from cryptopulse.api.settings import load_api_settings
from cryptopulse.config import Settings
from cryptopulse.lake import Lake
from test_api import api_lake  # noqa: F401  (the shared published lake)

EXAMPLES = 12  # generated cases per operation: the whole run stays within seconds


def test_every_operation_answers_as_documented(api_lake: Settings) -> None:  # noqa: F811
    app = create_app(api_lake, load_api_settings({}, rate=1e6, burst=1_000_000))  # limits are tested on their own
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    key = {"X-API-Key": create_key(Lake(api_lake.lake), "schemathesis")[1]}
    operations = [result.ok() for result in schema.get_all_operations()]
    statuses: dict[str, set[int]] = defaultdict(set)

    def check(strategy: SearchStrategy, examples: int) -> None:
        @given(case=strategy)
        @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def answers_as_documented(case: schemathesis.Case) -> None:
            # OpenAPI cannot say "end after start" or "a known coin": a schema-valid request may rightly get 422 or 404
            response = case.call_and_validate(headers=key, excluded_checks=[schemathesis.checks.positive_data_acceptance])
            statuses[case.operation.label].add(response.status_code)

        answers_as_documented()

    for operation in operations:
        for strategy in operation.get_strategies_from_examples():  # the documented examples: real coins and days
            check(strategy, 3)
        check(operation.as_strategy(), EXAMPLES)
    assert len(operations) >= 14
    assert not [op.label for op in operations if 200 not in statuses[op.label]], "some answers' bodies were never checked"
