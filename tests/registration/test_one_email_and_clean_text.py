"""One person, one email across sign-ups, the member list and privacy lookups; names refused with
line breaks or bidirectional overrides on the JSON API and the form page; the CSV guard for
fullwidth formula characters on the roster's path of each database (COPY on PostgreSQL)."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from flask.testing import FlaskClient
from sqlalchemy import select, text

import registration
from registration.models import Event
from registration.services import pricing, privacy, roster
from suite_common.csvexport import neutralise
from suite_common.fields import JOINER_PROBLEM, SINGLE_LINE_PROBLEM
from suite_common.migrations import alembic_config, upgrade
from tests.support.assertions import assert_error
from tests.support.databases import BACKENDS
from tests.support.factories import create_event, sign_up, signup_payload


def _post(client: FlaskClient, slug: str, **overrides: Any) -> Any:
    return client.post(f"/api/v1/events/{slug}/registrations", json=signup_payload(**overrides))


def _form(client: FlaskClient, slug: str, **overrides: str) -> Any:
    data = {"email": "form@red.example", "given_name": "Zoë", "family_name": "Berg", "rate": "free",
            "consent": "yes", "form_key": f"key-{sorted(overrides.items())}", **overrides}
    return client.post(f"/events/{slug}/register", data=data)


@pytest.mark.parametrize("second", ["ｚｏｅ@red.example", "zoe@ｒｅｄ.example", "ZOE@RED.example", "zoe@ＲＥＤ.ｅｘａｍｐｌｅ"])
def test_another_spelling_of_a_registered_email_is_the_same_person(client, auth, second):
    event = create_event(client, auth)
    first = sign_up(client, event["slug"], email="zoe@red.example")
    assert_error(_post(client, event["slug"], email=second), 409, "already_registered", "email")
    page = _form(client, event["slug"], email=second)
    assert page.status_code == 409 and "Already registered for this event." in page.get_data(as_text=True)
    listed = client.get(f"/api/v1/events/{event['slug']}/registrations", headers=auth).get_json()["items"]
    assert [item["id"] for item in listed] == [first["id"]]


def test_a_fullwidth_address_is_stored_as_the_address_it_stands_for(client, auth):
    event = create_event(client, auth)
    person = sign_up(client, event["slug"], email="ｚｏｅ@ｒｅｄ.example")
    stored = client.get(f"/api/v1/registrations/{person['id']}", headers=auth).get_json()
    assert stored["email"] == "zoe@red.example"
    assert _post(client, event["slug"], email="zoe@red.example").status_code == 409


@pytest.mark.parametrize("email", ["zoe@-red.example", "zoe@red..example", "zoe@" + "a" * 64 + ".example"])
def test_an_address_idna_refuses_is_a_field_error_not_a_500(client, auth, email):
    event = create_event(client, auth)
    error = assert_error(_post(client, event["slug"], email=email), 422, "validation_error", "email")
    assert set(error["fields"]) == {"email"}
    page = _form(client, event["slug"], email=email)
    assert page.status_code == 422


@pytest.mark.parametrize("name", ["Zoe\u202eBerg", "Zoe\r\nBerg", "Zoe\nBerg", "Zoe\rBerg", "\u2066Zoe\u2069",
                                  "Zo\u200be", "\u200dZoe"])
def test_a_name_with_a_line_break_or_invisible_formatting_is_refused_in_words(client, auth, name):
    event = create_event(client, auth)
    error = assert_error(_post(client, event["slug"], given_name=name), 422, "validation_error", "given_name")
    assert error["fields"]["given_name"][0] in (SINGLE_LINE_PROBLEM, JOINER_PROBLEM)
    page = _form(client, event["slug"], family_name=name)
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "invisible formatting characters" in text or "zero-width joiner" in text
    assert client.get(f"/api/v1/events/{event['slug']}/registrations", headers=auth).get_json()["items"] == []


def test_names_that_need_joiners_are_taken(client, auth):
    event = create_event(client, auth)
    person = sign_up(client, event["slug"], given_name="می\u200cخواهم", family_name="क्\u200dष")
    assert (person.get("given_name"), person.get("family_name")) in (
        (None, None), ("می\u200cخواهم", "क्\u200dष"))  # the sign-up answer may not echo the name


def test_event_descriptions_keep_line_feeds_but_not_overrides(client, auth):
    event = create_event(client, auth, description="Line one\r\nLine two")
    assert event["description"] == "Line one\nLine two"
    response = client.patch(f"/api/v1/events/{event['slug']}", headers=auth, json={"title": "Evil\u202etitle"})
    assert set(assert_error(response, 422, "validation_error", "title")["fields"]) == {"title"}


def test_free_text_answers_refuse_invisible_formatting(client, auth):
    event = create_event(client, auth)
    response = _post(client, event["slug"], answers={"institution": "Klinik\u202eum"})
    assert set(assert_error(response, 422, "validation_error", "answers")["fields"]) == {"answers"}
    assert _post(client, event["slug"], answers={"institution": "Klinikum\nRadiologie"}).status_code == 201


def _members(client: FlaskClient, auth: dict[str, str], content: str) -> Any:
    return client.put("/api/v1/members", headers=auth, content_type="multipart/form-data",
                      data={"file": (io.BytesIO(content.encode()), "members.csv")})


def test_the_member_list_keys_emails_the_same_way(client, auth):
    refused = _members(client, auth, "email,name\nzoe@red.example,Zoe\nＺＯＥ@ｒｅｄ.example,Zoe again\n")
    assert "already on line 2" in assert_error(refused, 422, "validation_error", "file")["fields"]["file"][0]
    assert _members(client, auth, "email,name\nｚｏｅ@ＲＥＤ.example,Zoe\n").status_code == 200
    listed = client.get("/api/v1/members", headers=auth).get_json()["items"]
    assert [m["email"] for m in listed] == ["zoe@red.example"]
    event = create_event(client, auth, rate=None)
    client.post(f"/api/v1/events/{event['slug']}/rates", headers=auth, json={
        "code": "member", "name": "Member", "amount": 0, "currency": "EUR", "category": "member"})
    assert _post(client, event["slug"], email="ZOE@red.example", rate="member").status_code == 201


def test_privacy_lookups_find_every_spelling(registration_app, client, auth):
    event = create_event(client, auth)
    sign_up(client, event["slug"], email="ｚｏｅ@red.example")
    with registration_app.app_context(), registration_app.extensions["suite_db"].session_scope() as session:
        organisation_id = session.scalar(select(Event.organisation_id).where(Event.slug == event["slug"]))
        for spelling in ("zoe@red.example", "ZOE@ｒｅｄ.example", "ｚｏｅ@RED.EXAMPLE"):
            assert len(privacy._registrations(session, organisation_id, spelling)) == 1, spelling


@pytest.mark.parametrize("character", ["＝", "＋", "－", "＠", "="])
def test_the_roster_csv_guards_fullwidth_formula_characters(client, auth, character):
    """SQLite writes the roster in Python, PostgreSQL with COPY: each is checked on its backend."""
    event = create_event(client, auth)
    person = sign_up(client, event["slug"], given_name=f"{character}SUM(A1)", family_name=f"Berg{character}")
    response = client.get(f"/api/v1/events/{event['slug']}/registrations", headers=auth,
                          query_string={"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))
    row = dict(zip(rows[0], next(r for r in rows[1:] if int(r[0]) == person["id"]), strict=True))
    assert row["given_name"] == f"'{character}SUM(A1)"
    assert row["family_name"] == f"Berg{character}"


# COPY is PostgreSQL's: on SQLite the Python path is the only one, so this runs where PostgreSQL is under test.
@pytest.mark.parametrize("database_url", [b for b in BACKENDS if b == "postgresql"], indirect=True)
def test_copy_guards_fullwidth_formula_characters_byte_for_byte_as_python(registration_app, client, auth):
    event = create_event(client, auth)
    for character in "＝＋－＠":
        sign_up(client, event["slug"], given_name=f"{character}1+1", family_name=f"x{character}")
    sessions = registration_app.extensions["suite_db"].session_factory
    with registration_app.app_context(), sessions() as session:
        model = session.scalar(select(Event).where(Event.slug == event["slug"]))
        rate_cells = {rate.id: neutralise(rate.code) for rate in model.rates}
        copied = b"".join(roster.roster_csv(sessions, model, {}, False))
        written = b"".join(chunk.encode() for chunk in roster._csv_chunks(
            sessions, roster.roster_query(model, {}), rate_cells,
            pricing.amount_to_pay_sql(model).label("amount_due"), False))
    assert copied == written
    assert all(f"'{character}1+1,x{character}".encode() in copied for character in "＝＋－＠")


def test_migration_0003_gives_stored_rows_the_new_keys_and_never_fails_on_a_clash(registration_app, client, auth,
                                                                               database_url, capfd):
    event = create_event(client, auth)
    kept, clash, changed = (sign_up(client, event["slug"], email=f"{name}@red.example") for name in ("zoe", "b", "c"))
    assert _members(client, auth, "email\nbob@red.example\n").status_code == 200
    old_rows = [{"email": "ｚｏｅ@red.example", "key": "ｚｏｅ@red.example", "id": clash["id"]},
                {"email": "Ann@ＲＥＤ.example", "key": "ann@ｒｅｄ.example", "id": changed["id"]}]
    with registration_app.extensions["suite_db"].engine.begin() as connection:  # as lower() made them
        connection.execute(text("UPDATE registrations SET email = :email, email_normalised = :key WHERE id = :id"),
                           old_rows)
        connection.execute(text("UPDATE members SET email_normalised = 'ｂｏｂ@red.example'"))
    migrations = Path(registration.__file__).parent / "migrations"
    command.stamp(alembic_config(migrations, database_url), "0002")
    upgrade(migrations, database_url, "0003")  # this migration alone: the tables of later ones exist already
    with registration_app.extensions["suite_db"].engine.connect() as connection:
        keys = dict(connection.execute(text("SELECT id, email_normalised FROM registrations")).all())
        members = connection.execute(text("SELECT email_normalised FROM members")).scalars().all()
    assert keys == {kept["id"]: "zoe@red.example", clash["id"]: "ｚｏｅ@red.example", changed["id"]: "ann@red.example"}
    assert members == ["bob@red.example"]
    assert f"row {clash['id']} keeps" in capfd.readouterr().err
