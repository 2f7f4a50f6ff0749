"""Member rates checked against the organiser's member list (CSV upload, all or nothing), and
rates that wait for the organiser's approval: in-process, through the API and the form.

The paid approval (which opens a Stripe Checkout Session) is tests/e2e/test_member_and_trainee_rates.py's job.
"""
from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.assertions import assert_error
from tests.support.factories import create_event, signup_payload

HEADER = "email,member_number,name\n"


def upload(client: FlaskClient, auth: dict[str, str], content: str | bytes, method: str = "PUT") -> Any:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.open("/api/v1/members", method=method, headers=auth, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), "members.csv")})


def listed(client: FlaskClient, auth: dict[str, str]) -> list[tuple[str | None, str | None, str | None]]:
    response = client.get("/api/v1/members", headers=auth, query_string={"limit": 1000})
    assert response.status_code == 200, response.get_json()
    return [(m["email"], m["member_number"], m["name"]) for m in response.get_json()["items"]]


def add_rate(client: FlaskClient, auth: dict[str, str], slug: str, **fields: Any) -> dict[str, Any]:
    payload = {"name": fields.get("code", "rate").title(), "amount": 0, "currency": "EUR", **fields}
    response = client.post(f"/api/v1/events/{slug}/rates", headers=auth, json=payload)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def post_signup(client: FlaskClient, slug: str, **overrides: Any) -> Any:
    return client.post(f"/api/v1/events/{slug}/registrations", json=signup_payload(**overrides))


def member_event(client: FlaskClient, auth: dict[str, str], **overrides: Any) -> dict[str, Any]:
    event = create_event(client, auth, **overrides)
    add_rate(client, auth, event["slug"], code="member", category="member")
    return event


def trainee_event(client: FlaskClient, auth: dict[str, str], amount: int = 0, **overrides: Any) -> dict[str, Any]:
    event = create_event(client, auth, **overrides)
    add_rate(client, auth, event["slug"], code="trainee", category="trainee", amount=amount)
    return event


def registration(client: FlaskClient, auth: dict[str, str], reg_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/registrations/{reg_id}", headers=auth)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def seats_taken(client: FlaskClient, auth: dict[str, str], slug: str) -> int:
    return client.get(f"/api/v1/events/{slug}", headers=auth).get_json()["seats_taken"]


def mails(app: Flask, to: str) -> dict[str, dict[str, Any]]:
    """The messages registration queued for notifications, by template."""
    from registration.models import Outbox

    with app.extensions["suite_db"].session_scope() as session:
        bodies = [row.body for row in session.scalars(select(Outbox).where(Outbox.target == "notifications",
                                                                           Outbox.method == "POST"))]
    return {body["template"]: body for body in bodies if body and body["to"] == to}


# --- rates --------------------------------------------------------------------------------


@pytest.mark.parametrize("category, membership, approval", [
    ("member", True, False), ("trainee", False, True), ("non_member", False, False), ("other", False, False)])
def test_rate_flags_default_by_category(client, auth, category, membership, approval):
    event = create_event(client, auth, rate=None)
    rate = add_rate(client, auth, event["slug"], code="r", category=category)
    assert (rate["requires_membership"], rate["requires_approval"]) == (membership, approval)


def test_rate_flags_can_be_set_either_way(client, auth):
    event = create_event(client, auth, rate=None)
    rate = add_rate(client, auth, event["slug"], code="m", category="member", requires_membership=False,
                    requires_approval=True)
    assert (rate["requires_membership"], rate["requires_approval"]) == (False, True)
    response = client.post(f"/api/v1/events/{event['slug']}/rates", headers=auth, json={
        "code": "x", "name": "X", "amount": 0, "currency": "EUR", "category": "other", "requires_approval": "yes"})
    assert_error(response, 422, "validation_error", "requires_approval")


def test_a_member_rate_without_the_membership_rule_is_open_to_anyone(client, auth):
    event = create_event(client, auth, rate=None)
    add_rate(client, auth, event["slug"], code="member", category="member", requires_membership=False)
    assert post_signup(client, event["slug"], rate="member").status_code == 201


# --- the member list --------------------------------------------------------------------


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(client, auth):
    assert upload(client, auth, HEADER + "keep@h.example,,Kept\n").status_code == 200
    content = (HEADER
               + "ok@h.example,M-1,Fine\n"            # line 2
               + ",,Nobody\n"                        # line 3: neither email nor number
               + "not-an-email,,Typo\n"              # line 4
               + "\n"                                # line 5: blank lines are skipped
               + "OK@h.example,,Twice\n"             # line 6: same email as line 2, other case
               + "other@h.example,m-1,Same number\n"  # line 7: same number as line 2
               + '"quoted@h.example",M-2,"Name, with comma"\n')  # line 8: fine
    response = upload(client, auth, content)
    error = assert_error(response, 422, "validation_error", "file")
    problems = error["fields"]["file"]
    assert [p.split(":")[0] for p in problems] == ["line 3", "line 4", "line 6", "line 7"]
    assert "no email and no member number" in problems[0]
    assert "not a valid email" in problems[1]
    assert "line 2" in problems[2] and "line 2" in problems[3]
    assert "4 lines" in error["message"] and "nothing was imported" in error["message"]
    # The refused file changed nothing, for a replace as for an append.
    assert_error(upload(client, auth, content, method="POST"), 422, "validation_error", "file")
    assert listed(client, auth) == [("keep@h.example", None, "Kept")]


def test_at_most_50_bad_lines_are_listed(client, auth):
    content = HEADER + "".join(f"bad-{n},,\n" for n in range(120))
    error = assert_error(upload(client, auth, content), 422, "validation_error", "file")
    assert len(error["fields"]["file"]) == 50
    assert error["fields"]["file"][0].startswith("line 2:") and error["fields"]["file"][-1].startswith("line 51:")
    assert "120 lines" in error["message"]


def test_excel_export_with_bom_semicolons_and_crlf(client, auth):
    content = ("\ufeffE-Mail;Member number;Name;City\r\n"
               "Zoe@Szpital.example;;Zoë Łukasiewicz;Kraków\r\n"
               ";  m 77 ;Jean Dupont;Lyon\r\n").encode("utf-8")
    response = upload(client, auth, content)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"count": 2, "added": 2, "updated": 0, "unchanged": 0, "removed": 0}
    assert listed(client, auth) == [("zoe@szpital.example", None, "Zoë Łukasiewicz"), (None, "M 77", "Jean Dupont")]


def test_member_number_only_file_without_bom(client, auth):
    response = upload(client, auth, "Member_Number\nA1\nB2\n")
    assert response.status_code == 200, response.get_json()
    assert listed(client, auth) == [(None, "A1", None), (None, "B2", None)]


@pytest.mark.parametrize("content, expected", [
    (b"", "line 1: the file is empty"),
    (b"name,city\nZo\xc3\xab,Wien\n", "line 1: the first line must name the columns"),
    (b"zoe@h.example,M-1\n", "line 1: the first line must name the columns"),
    (b"email,name,e-mail\nzoe@h.example,Zo,z@h.example\n", "line 1: the column email appears twice"),
    (b"email,name\nzoe@h.example,Zo\nzoe2@h.example,Zo\xeb\n", "line 3: the file is not UTF-8"),
    (b"email,name\nzoe@h.example,Zo\x07\n", "line 2: control characters"),
])
def test_unreadable_files_are_refused_with_the_line(client, auth, content, expected):
    error = assert_error(upload(client, auth, content), 422, "validation_error", "file")
    assert error["fields"]["file"][0].startswith(expected), error


def test_upload_needs_the_file_and_a_token(client, auth):
    response = client.put("/api/v1/members", headers=auth, content_type="multipart/form-data", data={})
    assert_error(response, 422, "validation_error", "file")
    assert_error(client.get("/api/v1/members"), 401, "unauthorized")
    response = client.put("/api/v1/members", content_type="multipart/form-data",
                          data={"file": (io.BytesIO(HEADER.encode()), "m.csv")})
    assert_error(response, 401, "unauthorized")


def test_replace_and_append(client, auth):
    assert upload(client, auth, HEADER + "a@h.example,1,Anna\nb@h.example,2,Ben\n").get_json()["count"] == 2
    # Append: a new member, a listed one completed/corrected (by number), a listed one as it is.
    response = upload(client, auth, HEADER + "c@h.example,3,Cleo\nbee@h.example,2,Ben B.\na@h.example,1,Anna\n",
                      method="POST")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"count": 3, "added": 1, "updated": 1, "unchanged": 1, "removed": 0}
    assert listed(client, auth) == [("a@h.example", "1", "Anna"), ("bee@h.example", "2", "Ben B."),
                                    ("c@h.example", "3", "Cleo")]
    # A row that names two different listed members is refused (and so is the whole file).
    error = assert_error(upload(client, auth, HEADER + "d@h.example,4,\na@h.example,3,\n", method="POST"),
                         422, "validation_error", "file")
    assert error["fields"]["file"] == ["line 3: the email belongs to one listed member and the member number to "
                                       "another"]
    # Replace: the file is the whole list.
    response = upload(client, auth, HEADER + "d@h.example,4,Dora\n")
    assert response.get_json() == {"count": 1, "added": 1, "updated": 0, "unchanged": 0, "removed": 3}
    assert listed(client, auth) == [("d@h.example", "4", "Dora")]
    # A header-only file empties the list.
    assert upload(client, auth, HEADER).get_json()["count"] == 0


def test_json_list_is_paged_with_a_count(client, auth):
    upload(client, auth, HEADER + "".join(f"p{n}@h.example,,\n" for n in range(5)))
    first = client.get("/api/v1/members", headers=auth, query_string={"limit": 2}).get_json()
    assert first["count"] == 5 and len(first["items"]) == 2 and first["next_cursor"]
    assert set(first["items"][0]) == {"email", "member_number", "name", "created_at"}
    rest = client.get("/api/v1/members", headers=auth, query_string={"limit": 10, "cursor": first["next_cursor"]})
    assert [m["email"] for m in rest.get_json()["items"]] == [f"p{n}@h.example" for n in range(2, 5)]
    assert_error(client.get("/api/v1/members", headers=auth, query_string={"cursor": "nope"}), 422,
                 "validation_error", "cursor")


def test_csv_export_imports_again_unchanged(client, auth):
    upload(client, auth, HEADER + "a@h.example,=1+1,\"Ann, MD\"\n,-42,Formula-looking number\n")
    before = listed(client, auth)
    response = client.get("/api/v1/members", headers=auth, query_string={"format": "csv", "bom": "true"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    exported = response.get_data()
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    assert rows[0] == ["email", "member_number", "name", "created_at"]
    assert rows[1][:3] == ["a@h.example", "'=1+1", "Ann, MD"]  # neutralised for spreadsheets
    assert upload(client, auth, exported).status_code == 200
    assert listed(client, auth) == before == [("a@h.example", "=1+1", "Ann, MD"), (None, "-42", "Formula-looking number")]


def test_member_lists_belong_to_one_organisation(client, auth, other_token):
    other = {"Authorization": f"Bearer {other_token}"}
    upload(client, other, HEADER + "zoe@h.example,77,\n")
    assert listed(client, auth) == []
    event = member_event(client, auth)
    assert_error(post_signup(client, event["slug"], rate="member", email="zoe@h.example"), 422,
                 "validation_error", "rate")
    assert_error(post_signup(client, event["slug"], rate="member", member_number="77"), 422,
                 "validation_error", "rate")


# --- member rates at sign-up ------------------------------------------------------------


def test_member_rate_accepts_a_listed_email_in_any_case(client, auth):
    upload(client, auth, HEADER + "Zoe@Szpital.example,,\n")
    event = member_event(client, auth)
    response = post_signup(client, event["slug"], rate="member", email="ZOE@szpital.EXAMPLE")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "confirmed"


def test_member_rate_accepts_a_listed_member_number_with_another_email(client, auth):
    upload(client, auth, HEADER + "office@society.example,M-1234,\n")
    event = member_event(client, auth)
    response = post_signup(client, event["slug"], rate="member", email="private@mail.example",
                           member_number=" m-1234 ")
    assert response.status_code == 201, response.get_json()
    assert registration(client, auth, response.get_json()["id"])["member_number"] == "m-1234"


def test_member_rate_refuses_who_is_not_on_the_list(client, auth):
    upload(client, auth, HEADER + "zoe@h.example,M-1,\n")
    event = member_event(client, auth)
    add_rate(client, auth, event["slug"], code="non-member", category="non_member")
    for attempt in ({"email": "stranger@h.example"}, {"email": "stranger@h.example", "member_number": "M-2"},
                    {"email": "stranger@h.example", "member_number": ""}):
        error = assert_error(post_signup(client, event["slug"], rate="member", **attempt), 422,
                             "validation_error", "rate")
        assert error["fields"]["rate"] == ["This rate is for members of Society-A; your email or member number "
                                           "is not on the member list."]
    assert client.get(f"/api/v1/events/{event['slug']}/registrations", headers=auth).get_json()["items"] == []
    # The other rates stay open to them.
    assert post_signup(client, event["slug"], rate="non-member", email="stranger@h.example").status_code == 201


def test_removing_someone_from_the_list_closes_the_member_rate_to_them(client, auth):
    event = member_event(client, auth)
    upload(client, auth, HEADER + "zoe@h.example,,\n")
    upload(client, auth, HEADER + "other@h.example,,\n")
    assert_error(post_signup(client, event["slug"], rate="member", email="zoe@h.example"), 422,
                 "validation_error", "rate")


# --- the form -----------------------------------------------------------------------------


def form(**overrides: str) -> dict[str, str]:
    data = {"given_name": "Zoë", "family_name": "Łukasiewicz", "email": "zoe@h.example", "rate": "member",
            "consent": "yes", "form_key": "k1"}
    data.update(overrides)
    return data


def test_form_shows_the_member_number_field_only_with_a_member_rate(client, auth):
    plain = create_event(client, auth)
    assert 'name="member_number"' not in client.get(f"/events/{plain['slug']}/register").get_data(as_text=True)
    event = member_event(client, auth)
    page = client.get(f"/events/{event['slug']}/register").get_data(as_text=True)
    assert 'name="member_number"' in page and "(members only)" in page


def test_form_refuses_a_non_member_and_keeps_what_was_typed(client, auth):
    upload(client, auth, HEADER + ",M-9,\n")
    event = member_event(client, auth)
    response = client.post(f"/events/{event['slug']}/register", data=form(member_number="M-8",
                                                                          institution="AKH Wien"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "your email or member number is not on the member list" in page
    for typed in ('value="Zoë"', 'value="Łukasiewicz"', 'value="zoe@h.example"', 'value="M-8"', 'value="AKH Wien"'):
        assert typed in page, typed
    assert 'value="member" checked' in page
    response = client.post(f"/events/{event['slug']}/register", data=form(member_number="m-9", form_key="k2"))
    assert response.status_code == 303, response.get_data(as_text=True)
    manage = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-status="confirmed"' in manage


def test_form_names_rates_that_need_approval_and_sends_there_to_wait(client, auth):
    event = trainee_event(client, auth)
    page = client.get(f"/events/{event['slug']}/register").get_data(as_text=True)
    assert "(requires the organiser's approval)" in page and 'name="member_number"' not in page
    response = client.post(f"/events/{event['slug']}/register", data=form(rate="trainee"))
    assert response.status_code == 303
    manage = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-status="pending_approval"' in manage and "waits for the organiser" in manage


# --- approval -----------------------------------------------------------------------------


def test_a_registration_awaiting_approval_holds_no_seat_and_is_not_waitlisted(client, auth, registration_app):
    event = trainee_event(client, auth, capacity=1)
    response = post_signup(client, event["slug"], rate="trainee", email="trainee@h.example")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["status"], body["payment_url"], body["waitlist_position"]) == ("pending_approval", None, None)
    assert seats_taken(client, auth, event["slug"]) == 0
    # The seat is still free for someone else.
    other = post_signup(client, event["slug"], rate="free").get_json()
    assert other["status"] == "confirmed"
    roster = client.get(f"/api/v1/events/{event['slug']}/registrations", headers=auth,
                        query_string={"status": "pending_approval"}).get_json()["items"]
    assert [item["id"] for item in roster] == [body["id"]]
    assert set(mails(registration_app, "trainee@h.example")) == {"approval_pending"}
    # The same email again is a duplicate, as for any live registration.
    assert_error(post_signup(client, event["slug"], rate="trainee", email="trainee@h.example"), 409,
                 "already_registered", "email")


def test_approving_a_free_registration_confirms_it_and_mails_twice(client, auth, registration_app):
    event = trainee_event(client, auth)
    reg = post_signup(client, event["slug"], rate="trainee", email="t@h.example").get_json()
    response = client.post(f"/api/v1/registrations/{reg['id']}/approve", headers=auth)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["payment_url"]) == ("confirmed", None)
    assert body["approved_at"] and body["rejected_at"] is None
    assert seats_taken(client, auth, event["slug"]) == 1
    sent = mails(registration_app, "t@h.example")
    assert {"approval_pending", "approval_granted", "registration_confirmed"} <= set(sent)
    assert sent["registration_confirmed"]["context"]["ticket"]["code"]
    # Approving twice, or rejecting after approving, is a conflict and changes nothing.
    assert_error(client.post(f"/api/v1/registrations/{reg['id']}/approve", headers=auth), 409, "conflict")
    assert_error(client.post(f"/api/v1/registrations/{reg['id']}/reject", headers=auth, json={}), 409, "conflict")
    assert seats_taken(client, auth, event["slug"]) == 1


def test_approving_when_the_event_is_full_puts_them_on_the_waiting_list(client, auth, registration_app):
    event = trainee_event(client, auth, capacity=1, amount=15000)
    reg = post_signup(client, event["slug"], rate="trainee", email="late@h.example").get_json()
    assert reg["amount_due"] == 15000
    post_signup(client, event["slug"], rate="free")
    body = client.post(f"/api/v1/registrations/{reg['id']}/approve", headers=auth).get_json()
    assert (body["status"], body["waitlist_position"], body["payment_url"]) == ("waitlisted", 1, None)
    assert {"approval_granted", "registration_waitlisted"} <= set(mails(registration_app, "late@h.example"))


def test_rejecting_cancels_and_tells_the_reason(client, auth, registration_app):
    event = trainee_event(client, auth, capacity=5)
    client.post(f"/api/v1/events/{event['slug']}/discount-codes", headers=auth,
                json={"code": "RES", "percent_off": 50, "max_uses": 1})
    reg = post_signup(client, event["slug"], rate="trainee", email="r@h.example", discount_code="res").get_json()
    reason = "Please send a letter from your programme director confirming your training status."
    response = client.post(f"/api/v1/registrations/{reg['id']}/reject", headers=auth, json={"reason": reason})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["rejection_reason"]) == ("cancelled", reason)
    assert body["rejected_at"] and body["cancelled_at"]
    assert seats_taken(client, auth, event["slug"]) == 0
    sent = mails(registration_app, "r@h.example")
    assert sent["approval_rejected"]["context"]["approval"] == {"reason": reason}
    assert "registration_cancelled" not in sent
    # The discount code's use was given back; the decision is final.
    assert post_signup(client, event["slug"], rate="free", discount_code="RES").status_code == 201
    assert_error(client.post(f"/api/v1/registrations/{reg['id']}/approve", headers=auth), 409, "conflict")
    assert_error(client.post(f"/api/v1/registrations/{reg['id']}/reject", headers=auth), 409, "conflict")
    manage = client.get(reg["manage_url"].removeprefix("http://registration.test")).get_data(as_text=True)
    assert "did not approve" in manage and "programme director" in manage


def test_rejecting_without_a_reason(client, auth, registration_app):
    event = trainee_event(client, auth)
    reg = post_signup(client, event["slug"], rate="trainee", email="n@h.example").get_json()
    response = client.post(f"/api/v1/registrations/{reg['id']}/reject", headers=auth)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["rejection_reason"] is None
    assert mails(registration_app, "n@h.example")["approval_rejected"]["context"]["approval"] == {"reason": None}
    assert_error(client.post(f"/api/v1/registrations/{reg['id']}/reject", headers=auth, json={"reason": 5}), 422,
                 "validation_error", "reason")


def test_a_cancelled_registration_cannot_be_approved(client, auth):
    event = trainee_event(client, auth, capacity=1)
    reg = post_signup(client, event["slug"], rate="trainee").get_json()
    cancelled = client.post(f"/api/v1/registrations/{reg['id']}/cancel", headers=auth).get_json()
    assert cancelled["status"] == "cancelled"
    assert seats_taken(client, auth, event["slug"]) == 0
    assert_error(client.post(f"/api/v1/registrations/{reg['id']}/approve", headers=auth), 409, "conflict")
    assert seats_taken(client, auth, event["slug"]) == 0


def test_decisions_reach_only_the_organisations_own_registrations(client, auth, other_token):
    event = trainee_event(client, auth)
    reg = post_signup(client, event["slug"], rate="trainee").get_json()
    other = {"Authorization": f"Bearer {other_token}"}
    assert_error(client.post(f"/api/v1/registrations/{reg['id']}/approve", headers=other), 404, "not_found")
    assert_error(client.post(f"/api/v1/registrations/{reg['id']}/reject", headers=other), 404, "not_found")
    assert_error(client.post(f"/api/v1/registrations/{reg['id']}/approve"), 401, "unauthorized")
    assert registration(client, auth, reg["id"])["status"] == "pending_approval"


def test_a_member_rate_that_also_needs_approval(client, auth):
    upload(client, auth, HEADER + "m@h.example,,\n")
    event = create_event(client, auth)
    add_rate(client, auth, event["slug"], code="member-trainee", category="trainee", requires_membership=True)
    assert_error(post_signup(client, event["slug"], rate="member-trainee"), 422, "validation_error", "rate")
    response = post_signup(client, event["slug"], rate="member-trainee", email="m@h.example")
    assert response.get_json()["status"] == "pending_approval"
