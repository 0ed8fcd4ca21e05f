"""schemathesis, in-process (``from_asgi``): no 5xx and no response outside the schema, anonymous and signed in.

Every operation, positive and negative data, anonymous and as a community secretary with projects in several
states; the administrators' changes also as an administrator. Bounded on purpose: a fixed number of
derandomised examples per operation, mode and caller (``FUNDFLOW_FUZZ_POSITIVE`` / ``FUNDFLOW_FUZZ_NEGATIVE``
raise them for a deeper run), so the run is repeatable and short.
"""
from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import Api, Clock, World
from workflow.demo import Driver

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: int(os.environ.get("FUNDFLOW_FUZZ_POSITIVE", 10)),
            GenerationMode.NEGATIVE: int(os.environ.get("FUNDFLOW_FUZZ_NEGATIVE", 5))}
# a refusal of bad input may also be 413 (a body over the size limit)
CONFIG = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {
    "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]}}})


ADMIN_ONLY = ("/api/v1/admin/", "/api/v1/calendar/import", "/api/v1/audit/", "/api/v1/fund-years")


def _runner(operation: Any, mode: GenerationMode, callers: dict[str, dict[str, str]]) -> Any:
    """One hypothesis run of the operation: each example is sent as every caller (the strategy, the costly
    part, is built once)."""
    checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])

    @settings(max_examples=EXAMPLES[mode], deadline=None, database=None, derandomize=True, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        for who, headers in callers.items():
            try:
                case.call_and_validate(headers=headers, checks=checks)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - say as whom, then fail the example
                raise AssertionError(f"as {who}: {exc}") from exc

    return run


def _fuzz(schema: Any, callers: dict[str, dict[str, str]], admin: dict[str, str]) -> list[str]:
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        # what only the city's administrators may change, also as one of them (others are refused before the body)
        admin_only = operation.path.startswith(ADMIN_ONLY) and operation.method.upper() == "POST"
        who = {**callers, "admin": admin} if admin_only else callers
        for mode in EXAMPLES:
            try:
                _runner(operation, mode, who)()
            except Unsatisfiable:
                pass  # an operation without parameters or body has no negative inputs
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect every operation's failure, report all at once
                failures.append(f"{operation.method.upper()} {operation.path} [{mode.value}]: {str(exc)[:1500]}")
    return failures


def test_schemathesis_anonymous_and_signed_in(app: Any, api: Api, world: World, drv: Driver,
                                              clock_at: Clock) -> None:
    # something to find: projects in several states, a running notice
    drv.new_project("in_progress")
    drv.new_project("publicity")
    clock_at.set(drv.tick())
    # signed in before the anonymous run's failed logins reach the address's limit
    secretary, admin = api.token("secretary"), api.token("admin")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
    failures = _fuzz(schema, {"anonymous": {}, "secretary": {"Authorization": f"Bearer {secretary}"}},
                     {"Authorization": f"Bearer {admin}"})
    assert not failures, "\n\n".join(failures)
