"""Checks of the suite's error contract, shared by the API tests."""
from __future__ import annotations

from typing import Any

from werkzeug.test import TestResponse


def assert_error(response: TestResponse, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """The response is the contract's JSON error: ``{"error": {"code", "message", "fields"?}}``.

    With ``field``, ``error.fields`` must name it with at least one message. Returns ``error``.
    """
    body = response.get_data(as_text=True)
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {body[:500]}"
    assert response.mimetype == "application/json", f"expected JSON, got {response.content_type}: {body[:200]}"
    payload = response.get_json()
    assert isinstance(payload, dict) and set(payload) == {"error"}, payload
    error = payload["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    assert set(error) <= {"code", "message", "fields"}, error
    if field is not None:
        fields = error.get("fields")
        assert isinstance(fields, dict) and field in fields, f"no {field!r} in fields: {error}"
        messages = fields[field]
        assert messages and all(isinstance(m, str) and m for m in messages), error
    return error
