"""The benefits report's API fuzzed with schemathesis as the people it is for: a team leader (the
report, the settings, refused changes) and an administrator (changes). No 5xx, answers match the schema.

The general fuzz run logs in as a coordinator, who gets 403 here; this one reaches the answers.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.http.test_api_fuzz import _login
from tests.serverproc import ROOT, running_server


def test_benefits_api_survives_schemathesis(tmp_path: Path) -> None:
    with running_server(tmp_path, SAMKONSULT_DEMO_RELAX_TOTP="true") as server:
        for username in ("leder", "admin"):
            cookie, token = _login(server.base_url, username)
            done = subprocess.run([
                str(Path(sys.executable).parent / "schemathesis"), "run", f"{server.base_url}/api/openapi.json",
                "--include-path-regex", "^/api/reports/",
                "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                            "response_schema_conformance",
                "--max-examples", "25", "--seed", "20261202", "--workers", "1", "--max-time", "90",
                "--request-timeout", "20",
                "-H", f"Cookie: {cookie}", "-H", f"X-CSRF-Token: {token}", "-H", f"Origin: {server.base_url}",
            ], cwd=ROOT, capture_output=True, text=True, timeout=420, check=False)
            output = done.stdout + done.stderr
            assert done.returncode == 0, output[-8000:] + "\n--- server log ---\n" + server.log()[-4000:]
        assert "Internal Server Error" not in server.log()
