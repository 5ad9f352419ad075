"""Whatever a client sends, the API answers 2xx or 4xx, never 5xx: schemathesis generates valid
and invalid requests from the OpenAPI schema and sends them to a real server process."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.conftest import start_server

KEY = "fuzz-key"
EXAMPLES_PER_OPERATION = 80


@pytest.fixture
def server(trained_model, tmp_path):
    env = {
        "MLFLOW_TRACKING_URI": trained_model.tracking_uri,
        "LEADSCORE_API_KEYS": KEY,
        "LEADSCORE_MAX_LEADS_PER_REQUEST": "20",
        "LEADSCORE_ACCESS_LOG": "false",
    }
    server = start_server(tmp_path, env)
    yield server
    server.stop()


def test_no_input_gets_a_server_error(server):
    schema = schemathesis.openapi.from_url(f"{server.base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/score", "/v1/outcomes", "/ready"}
    for operation in operations:
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=cases)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def never_a_server_error(case):
            case.call_and_validate(
                headers={"Authorization": f"Bearer {KEY}"}, checks=[not_a_server_error]
            )

        never_a_server_error()
    assert " 500 " not in server.output() and "Traceback" not in server.output()
