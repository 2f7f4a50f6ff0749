"""People and API tokens in the console: owners only; the last owner stays; a token is shown once."""
from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.console import add_person, signed_in


def _person_id(app: Flask, email: str) -> int:
    from registration.models import OrganiserAccount
    from suite_common.emails import email_key

    with app.app_context(), app.extensions["suite_db"].session_scope() as session:
        return session.scalar(select(OrganiserAccount.id).where(OrganiserAccount.email_key == email_key(email)))


def _create_token(owner: FlaskClient, name: str) -> str:
    answer = owner.post("/console/tokens/new", data={"name": name})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.headers["Cache-Control"] == "no-store"
    page = answer.get_data(as_text=True)
    assert "Copy it now: it is not shown again." in page
    return re.search(r'value="(sto_[^"]+)"', page).group(1)


def test_an_owner_adds_changes_and_removes_people_but_keeps_the_last_owner(registration_app: Flask) -> None:
    owner = signed_in(registration_app, "society-a", "owner")
    listed = owner.get("/console/people")
    assert listed.status_code == 200 and "Owner of society-a" in listed.get_data(as_text=True)

    invalid = owner.post("/console/people/new", data={"email": "not-an-address", "name": "", "role": "boss"})
    page = invalid.get_data(as_text=True)
    assert invalid.status_code == 422 and 'id="error-summary"' in page
    assert 'aria-describedby="email-error"' in page and 'id="name-error"' in page and 'id="role-error"' in page

    added = owner.post("/console/people/new", data={"email": "Bea@Society-A.example", "name": "Bea", "role": "staff"})
    assert added.status_code == 303
    bea = _person_id(registration_app, "bea@society-a.example")
    assert added.headers["Location"] == f"/console/people/{bea}"
    shown = owner.get(added.headers["Location"]).get_data(as_text=True)
    assert "Bea is now staff of this organisation" in shown and "never" in shown

    again = owner.post("/console/people/new", data={"email": "bea@society-a.example", "name": "Bea 2", "role": "viewer"})
    assert again.status_code == 409 and "Already a person of this organisation." in again.get_data(as_text=True)

    changed = owner.post(f"/console/people/{bea}", data={"name": "Bea Bauer", "role": "owner"})
    assert changed.status_code == 303
    people = owner.get("/console/people").get_data(as_text=True)
    assert "Bea Bauer" in people and people.count("Owner</td>") == 2

    # Two owners: the first may step down; Bea, now the last owner, may not.
    me = _person_id(registration_app, "owner@society-a.example")
    assert owner.post(f"/console/people/{bea}", data={"name": "Bea Bauer", "role": "staff"}).status_code == 303
    last = owner.post(f"/console/people/{me}", data={"name": "Owner of society-a", "role": "viewer"})
    assert last.status_code == 409
    assert "An organisation needs at least one owner" in last.get_data(as_text=True)
    assert 'aria-describedby="role-error"' in last.get_data(as_text=True)
    refused = owner.post(f"/console/people/{me}/remove")
    assert refused.status_code == 409 and "was not removed" in refused.get_data(as_text=True)
    assert owner.get("/console/people").get_data(as_text=True).count("Owner</td>") == 1  # nothing changed

    # Removing someone ends their session at once.
    viewer = signed_in(registration_app, "society-a", "viewer")
    assert viewer.get("/console/events").status_code == 200
    gone = _person_id(registration_app, "viewer@society-a.example")
    assert "Remove Viewer of society-a?" in owner.get(f"/console/people/{gone}/remove").get_data(as_text=True)
    removed = owner.post(f"/console/people/{gone}/remove")
    assert removed.status_code == 303 and removed.headers["Location"] == "/console/people"
    after = owner.get("/console/people").get_data(as_text=True)
    assert "Viewer of society-a is removed and signed out everywhere." in after
    assert "viewer@society-a.example" not in after
    assert viewer.get("/console/events").status_code == 303  # back to the sign-in page
    assert owner.get(f"/console/people/{gone}").status_code == 404


def test_a_role_change_reaches_the_persons_open_session(registration_app: Flask) -> None:
    owner = signed_in(registration_app, "society-a", "owner")
    staff = signed_in(registration_app, "society-a", "staff")
    assert staff.get("/console/people").status_code == 403
    staff_id = _person_id(registration_app, "staff@society-a.example")
    assert owner.post(f"/console/people/{staff_id}", data={"name": "Promoted", "role": "owner"}).status_code == 303
    assert staff.get("/console/people").status_code == 200


def test_an_owner_sends_a_sign_in_link(registration_app: Flask) -> None:
    from registration.models import Outbox

    owner = signed_in(registration_app, "society-a", "owner")
    add_person(registration_app, "society-a", "staff", email="cem@society-a.example", name="Cem")
    cem = _person_id(registration_app, "cem@society-a.example")
    sent = owner.post(f"/console/people/{cem}/sign-in-link")
    assert sent.status_code == 303
    assert "on its way to cem@society-a.example" in owner.get(sent.headers["Location"]).get_data(as_text=True)
    with registration_app.app_context(), registration_app.extensions["suite_db"].session_scope() as session:
        recipients = [row.body["to"] for row in session.scalars(select(Outbox))]
    assert recipients == ["cem@society-a.example"]


def test_a_token_made_in_the_console_works_once_shown_and_is_refused_once_revoked(registration_app: Flask) -> None:
    owner = signed_in(registration_app, "society-a", "owner")
    assert owner.post("/console/tokens/new", data={"name": ""}).status_code == 422
    token = _create_token(owner, "society web site")
    api = registration_app.test_client()
    assert api.get("/api/v1/events", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    listed = owner.get("/console/tokens").get_data(as_text=True)
    assert "society web site" in listed and "Active" in listed and token not in listed
    token_id = int(re.search(r"/console/tokens/(\d+)/revoke", listed).group(1))
    confirm = owner.get(f"/console/tokens/{token_id}/revoke")
    assert confirm.status_code == 200 and "Yes, revoke" in confirm.get_data(as_text=True)
    assert api.get("/api/v1/events", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    revoked = owner.post(f"/console/tokens/{token_id}/revoke")
    assert revoked.status_code == 303 and revoked.headers["Location"] == "/console/tokens"
    assert "Revoked" in owner.get("/console/tokens").get_data(as_text=True)
    assert api.get("/api/v1/events", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_staff_and_viewers_cannot_see_or_manage_people_and_tokens(registration_app: Flask) -> None:
    owner = signed_in(registration_app, "society-a", "owner")
    _create_token(owner, "kept")
    listed = owner.get("/console/tokens").get_data(as_text=True)
    token_id = int(re.search(r"/console/tokens/(\d+)/revoke", listed).group(1))
    owner_id = _person_id(registration_app, "owner@society-a.example")
    for role in ("staff", "viewer"):
        browser = signed_in(registration_app, "society-a", role)
        for path in ("/console/people", f"/console/people/{owner_id}", f"/console/people/{owner_id}/remove",
                     "/console/tokens", f"/console/tokens/{token_id}/revoke"):
            assert browser.get(path).status_code == 403, (role, path)
        for path, form in (("/console/people/new", {"email": "x@y.example", "name": "X", "role": "owner"}),
                           (f"/console/people/{owner_id}", {"name": "Taken over", "role": "viewer"}),
                           (f"/console/people/{owner_id}/remove", {}),
                           (f"/console/people/{owner_id}/sign-in-link", {}),
                           ("/console/tokens/new", {"name": "mine"}),
                           (f"/console/tokens/{token_id}/revoke", {})):
            assert browser.post(path, data=form).status_code == 403, (role, path)
        page = browser.get("/console/events").get_data(as_text=True)
        assert "/console/people" not in page and "/console/tokens" not in page  # not in the navigation
    assert "Active" in owner.get("/console/tokens").get_data(as_text=True)
    assert "Taken over" not in owner.get("/console/people").get_data(as_text=True)


def test_another_organisations_people_and_tokens_are_not_found(registration_app: Flask) -> None:
    theirs = signed_in(registration_app, "society-b", "owner")
    _create_token(theirs, "theirs")
    their_token = int(re.search(r"/console/tokens/(\d+)/revoke", theirs.get("/console/tokens").get_data(as_text=True)).group(1))
    their_owner = _person_id(registration_app, "owner@society-b.example")

    owner = signed_in(registration_app, "society-a", "owner")
    assert "theirs" not in owner.get("/console/tokens").get_data(as_text=True)
    assert "society-b" not in owner.get("/console/people").get_data(as_text=True)
    assert owner.get(f"/console/people/{their_owner}").status_code == 404
    assert owner.post(f"/console/people/{their_owner}", data={"name": "Mine", "role": "viewer"}).status_code == 404
    assert owner.post(f"/console/people/{their_owner}/remove").status_code == 404
    assert owner.post(f"/console/people/{their_owner}/sign-in-link").status_code == 404
    assert owner.get(f"/console/tokens/{their_token}/revoke").status_code == 404
    assert owner.post(f"/console/tokens/{their_token}/revoke").status_code == 404
    assert "Active" in theirs.get("/console/tokens").get_data(as_text=True)
