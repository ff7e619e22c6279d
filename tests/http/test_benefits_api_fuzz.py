"""The benefits report's API fuzzed with schemathesis as the people it is for: a team leader (the
report, the settings, refused changes) and an administrator (changes). No 5xx, answers match the schema.

The general fuzz run logs in as a coordinator, who gets 403 here; this one reaches the answers.
"""

from __future__ import annotations

from pathlib import Path

from tests.http.test_api_fuzz import run_schemathesis
from tests.serverproc import running_server


def test_benefits_api_survives_schemathesis(tmp_path: Path) -> None:
    with running_server(tmp_path, SAMKONSULT_DEMO_RELAX_TOTP="true") as server:
        for username in ("leder", "admin"):
            # Three operations that link to nothing: no stateful phase (the general run follows every link),
            # and 30 s each, some thousand cases; at 90 s the fuzzing phase took three minutes of the suite.
            run_schemathesis(server, username, "--include-path-regex", "^/api/reports/", "--max-examples", "25",
                             "--seed", "20261202", phases="examples,coverage,fuzzing", max_time=30)
        assert "Internal Server Error" not in server.log()
