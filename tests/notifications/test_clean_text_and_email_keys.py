"""Notifications: a recipient written in fullwidth letters is stored as the address it stands for
and found by a privacy export under any spelling; template subjects stay on one line and
template text refuses bidirectional overrides (issue 10)."""
from __future__ import annotations

import pytest

from tests.notifications.conftest import InternalClient
from tests.notifications.test_messages_api import A, message


def test_a_fullwidth_recipient_is_stored_in_nfkc_and_found_under_every_spelling(internal: InternalClient) -> None:
    response = internal.request("POST", "/internal/v1/messages", message(to="ｚｏｅ@ｒｅｄ.example"))
    assert response.status_code == 202, response.get_json()
    for spelling in ("zoe@red.example", "ZOE@RED.example", "ｚｏｅ@red.example"):
        answer = internal.request("POST", "/internal/v1/privacy/export", {"organisation_id": 1, "email": spelling})
        assert answer.status_code == 200, answer.get_json()
        assert [m["to"] for m in answer.get_json()["data"]["messages"]] == ["zoe@red.example"], spelling


def test_a_recipient_whose_domain_idna_refuses_is_a_field_error(internal: InternalClient) -> None:
    response = internal.request("POST", "/internal/v1/messages", message(to="zoe@-red.example"))
    assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == {"to"}


@pytest.mark.parametrize(("field", "value"), [("subject", "Welcome\r\nBcc: all@x.example"), ("subject", "Hi\u202e"),
                                              ("text", "Hello\u202e {{ attendee.given_name }}"), ("text", "Hi\x07")])
def test_template_text_refuses_line_breaks_in_subjects_and_invisible_formatting(organiser, field, value) -> None:
    template = {"subject": "Welcome", "text": "Hello {{ attendee.given_name }}!", field: value}
    response = organiser.put("/api/v1/events/w/templates/registration_confirmed", json=template, headers=A)
    assert response.status_code == 422, response.get_json()
    assert "invisible formatting characters" in response.get_json()["error"]["fields"][field][0]


def test_template_text_keeps_its_lines(organiser) -> None:
    template = {"subject": "Welcome", "text": "Hello {{ attendee.given_name }}!\r\n\r\nSee you."}
    response = organiser.put("/api/v1/events/w/templates/registration_confirmed", json=template, headers=A)
    assert response.status_code == 200 and response.get_json()["text"] == "Hello {{ attendee.given_name }}!\n\nSee you."
