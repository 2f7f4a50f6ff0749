"""Property-based fuzzing of each service's published OpenAPI with schemathesis (issue 6).

The suite runs as real gunicorn processes (certificates reads registration's internal API),
with an organisation that has an event, a session, a rate and a registration. Schemathesis
runs each service twice: with that organisation's token (the internal API, which needs
service signatures, left out) and without any credentials, where every operation, the
internal ones included, must answer 401 or a public answer, never a 5xx.

Checks: no 5xx, every status and content type documented, every body as documented, and a
request that breaks the schema is refused. Each run draws a fresh seed, so runs together cover
more than one would, and prints it: ``FUZZ_SEED=<seed>`` repeats a failing run's generation.
``FUZZ_SECONDS`` (``make fuzz``) gives each of the six runs that long and many more cases.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.factories import event_payload, signup_payload
from tests.support.stack import running_stack, url

SEED = int(os.environ.get("FUZZ_SEED") or random.SystemRandom().randrange(2**32))
# A long fuzz: each run spends this many seconds (schemathesis' --max-time) on many more cases.
LONG_SECONDS = int(os.environ.get("FUZZ_SECONDS") or 0)
# Generation is CPU-bound; on two busy cores one service's run can take minutes.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900 + 2 * LONG_SECONDS)]

CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "negative_data_rejection")
CONFIG = Path(__file__).with_name("schemathesis.toml")


class FuzzTarget:
    def __init__(self, stack: Any, token: str, known: dict[str, Any]) -> None:
        self.stack, self.token, self.known = stack, token, known


def _seed(base: str, token: str) -> dict[str, Any]:
    """An event with a session, a free rate and one registration: identifiers the fuzzer can hit."""
    auth = {"Authorization": f"Bearer {token}"}
    event = event_payload(slug="fuzz-congress", kind="conference", capacity=100)
    requests.post(f"{base}/api/v1/events", json=event, headers=auth).raise_for_status()
    requests.post(f"{base}/api/v1/events/fuzz-congress/rates", headers=auth, json={
        "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"}).raise_for_status()
    requests.post(f"{base}/api/v1/events/fuzz-congress/sessions", headers=auth, json={
        "code": "opening", "title": "Opening", "starts_at": event["starts_at"], "ends_at": event["ends_at"],
        "credits": "1.5"}).raise_for_status()
    signed_up = requests.post(f"{base}/api/v1/events/fuzz-congress/registrations", json=signup_payload())
    signed_up.raise_for_status()
    return {"slug": "fuzz-congress", "registration_id": signed_up.json()["id"]}


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[FuzzTarget]:
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():  # shown whether the runs pass or fail
        print(f"\nfuzz seed: {SEED} (run again with FUZZ_SEED={SEED})")
    with running_stack(tmp_path_factory.mktemp("fuzz"), workers=1, background=False) as stack:
        token = stack.create_token("fuzz-society")
        yield FuzzTarget(stack, token, _seed(url(stack, "registration"), token))


@pytest.mark.parametrize("as_organiser", [True, False], ids=["organiser", "anonymous"])
@pytest.mark.parametrize("service", ["registration", "notifications", "certificates"])
def test_published_api_holds_under_fuzzing(target: FuzzTarget, service: str, as_organiser: bool,
                                           tmp_path: Path) -> None:
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run",
               f"{url(target.stack, service)}/openapi.json", "--checks", ",".join(CHECKS),
               "--seed", str(SEED), "--workers", "1", "--no-color", "--output-truncate", "false",
               "--request-timeout", "30",
               # How fast cases are generated depends on the machine's load, not on the API.
               "--suppress-health-check", "too_slow"]
    examples = ["--max-examples", "5"]
    if LONG_SECONDS:
        examples = ["--max-examples", "1000", "--max-time", str(LONG_SECONDS)]
    if as_organiser:
        command += ["--header", f"Authorization: Bearer {target.token}", "--exclude-path-regex", "^/internal/",
                    "--phases", "examples,coverage,fuzzing", *examples]
    else:
        # Without credentials all but the public operations stop at the 401; a few cases each show that.
        command += ["--phases", "examples,fuzzing", *examples]
    # Run in tmp_path: schemathesis keeps a cache in its working directory.
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks", "PYTHONPATH": str(Path(__file__).parents[2]),
           "FUZZ_KNOWN_PARAMETERS": json.dumps(target.known)}
    run = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=600 + 2 * LONG_SECONDS)
    assert run.returncode == 0, (f"fuzz seed {SEED}: run again with FUZZ_SEED={SEED}\n" + run.stdout[-20000:]
                                 + run.stderr[-5000:] + _server_errors(target, service))


def _server_errors(target: FuzzTarget, service: str) -> str:
    """The service's logged errors with their tracebacks: where a 5xx came from."""
    log = (target.stack.var_dir / "log" / f"{service}.log").read_text(errors="replace").splitlines()
    errors = [line for line in log if '"level": "INFO"' not in line]
    return "\n--- server log, without INFO lines ---\n" + "\n".join(errors[-200:])
