"""A console session carries its person's role to every service: the console calls notifications and
certificates with it, and they refuse a viewer's change (403) as registration does, while staff may."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.console import browser_session
from tests.support.factories import event_payload
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e

RULES = {"body": "EACCME", "statement": "Accredited with 2 European CME credits.", "credit_step": "0.5",
         "max_credits": "2", "signatory": "Prof. Dr. Eva de Vries"}


def _add(stack, email: str, role: str) -> None:  # type: ignore[no-untyped-def]
    subprocess.run([sys.executable, "-m", "flask", "--app", "registration", "organisers", "add", "--org", "society-a",
                    "--email", email, "--name", role.title(), "--role", role], env=stack.env, check=True,
                   capture_output=True, timeout=60)


def test_a_viewer_reads_everywhere_and_changes_nothing_anywhere(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        registration, certificates = url(stack, "registration"), url(stack, "certificates")
        notifications = url(stack, "notifications")
        token = stack.create_token("society-a")
        created = requests.post(f"{registration}/api/v1/events", json=event_payload(slug="roles"), timeout=10,
                                headers={"Authorization": f"Bearer {token}"})
        assert created.status_code == 201
        _add(stack, "viewer@society-a.example", "viewer")
        _add(stack, "staff@society-a.example", "staff")
        _, viewer = browser_session(stack, "society-a", "viewer@society-a.example")
        _, staff = browser_session(stack, "society-a", "staff@society-a.example")

        def as_(secret: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {secret}"}

        for base in (registration, notifications, certificates):
            who = requests.get(f"{base}/api/v1/organisation", headers=as_(viewer), timeout=10).json()
            assert (who["slug"], who["role"]) == ("society-a", "viewer")
            assert who["actor"] == "Viewer (console, person 1)"

        refused = requests.put(f"{certificates}/api/v1/events/roles/accreditation", json=RULES, headers=as_(viewer),
                               timeout=10)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        template = {"subject": "Welcome to {{ event.title }}", "text": "Hello {{ attendee.given_name }}"}
        assert requests.put(f"{notifications}/api/v1/events/roles/templates/registration_confirmed", json=template,
                            headers=as_(viewer), timeout=10).status_code == 403
        assert requests.patch(f"{registration}/api/v1/events/roles", json={"title": "Changed"}, headers=as_(viewer),
                              timeout=10).status_code == 403
        assert requests.get(f"{certificates}/api/v1/events/roles/accreditation", headers=as_(viewer),
                            timeout=10).status_code in (200, 404)  # reading is allowed (404: no rules yet)

        saved = requests.put(f"{certificates}/api/v1/events/roles/accreditation", json=RULES, headers=as_(staff),
                             timeout=10)
        assert saved.status_code == 200, saved.text
        assert requests.put(f"{notifications}/api/v1/events/roles/templates/registration_confirmed", json=template,
                            headers=as_(staff), timeout=10).status_code == 200
        audit = requests.get(f"{certificates}/api/v1/audit", headers=as_(staff), timeout=10).json()["items"]
        assert [(e["actor"], e["status"]) for e in audit[:2]] == [("Staff (console, person 2)", 200),
                                                                   ("Viewer (console, person 1)", 403)]
