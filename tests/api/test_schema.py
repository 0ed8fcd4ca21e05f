"""schemathesis, in-process (``from_asgi``): no 5xx and no response outside the schema, anonymous and signed in.

Bounded on purpose: a few derandomised examples per operation and mode, so the run is repeatable and short.
"""
from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import Api, Clock, World
from workflow.demo import Driver

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 4, GenerationMode.NEGATIVE: 2}


def _runner(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> Any:
    checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])

    @settings(max_examples=EXAMPLES[mode], deadline=None, database=None, derandomize=True, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=checks)

    return run


def _fuzz(schema: Any, headers: dict[str, str]) -> list[str]:
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in EXAMPLES:
            try:
                _runner(operation, mode, headers)()
            except Unsatisfiable:
                pass  # an operation without parameters or body has no negative inputs
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect every operation's failure, report all at once
                failures.append(f"{operation.method.upper()} {operation.path} [{mode.value}]: {str(exc)[:600]}")
    return failures


def test_schemathesis_anonymous_and_signed_in(app: Any, api: Api, world: World, drv: Driver,
                                              clock_at: Clock) -> None:
    # something to find: projects in several states, a running notice
    drv.new_project("in_progress")
    drv.new_project("publicity")
    clock_at.set(drv.tick())
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures = _fuzz(schema, {})
    failures += _fuzz(schema, {"Authorization": f"Bearer {api.token('secretary')}"})
    assert not failures, "\n\n".join(failures)
