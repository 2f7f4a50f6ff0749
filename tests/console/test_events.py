"""The console's event pages: the list with counts and revenue, an event's overview, creating and
editing an event, adding sessions, workshops, rates and discount codes; roles and organisations."""
from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from tests.support.console import signed_in
from tests.support.factories import create_event, iso, sign_up

NEW_EVENT = {
    "title": "AI in chest CT", "slug": "ai-chest-ct", "kind": "webinar", "description": "Line one\r\nLine two",
    "timezone": "Europe/Vienna", "starts_at": "2027-03-04T18:00", "ends_at": "2027-03-04T19:30",
    "venue": "", "join_url": "https://zoom.us/j/1234567890", "capacity": "",
    "registration_opens_at": "", "registration_closes_at": "2027-03-04T17:00",
    "seat_hold_minutes": "45", "consent_text": "I agree.", "currency": "EUR", "vat_rate": "20",
    "prices_include_vat": "on", "allows_invoice": "on", "invoice_due_days": "14",
    "refund_full_until": "2027-02-01T00:00", "refund_partial_until": "2027-03-01T00:00",
    "refund_partial_percent": "50", "cancellation_fee": "25.00",
}


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _api_event(app: Flask, auth: dict[str, str], slug: str) -> dict:
    response = app.test_client().get(f"/api/v1/events/{slug}", headers=auth)
    assert response.status_code == 200
    return response.get_json()


def _row(page: str, title: str) -> list[str]:
    """The cells of the events table's row for ``title``, as text."""
    row = next(row for row in re.findall(r"<tr>.*?</tr>", page, re.S) if title in row)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_staff_create_an_event_through_the_form_and_edit_it(registration_app: Flask, auth: dict[str, str]) -> None:
    staff = signed_in(registration_app, "society-a", "staff")
    form = staff.get("/console/events/new")
    assert form.status_code == 200 and 'name="starts_at"' in _text(form) and "Europe/Vienna" in _text(form)

    bad = staff.post("/console/events/new", data={**NEW_EVENT, "slug": "Not A Slug", "title": "",
                                                   "ends_at": "2027-03-04T17:00", "capacity": "ten",
                                                   "currency": "euro", "cancellation_fee": "2.505",
                                                   "registration_closes_at": "someday"})
    page = _text(bad)
    assert bad.status_code == 422
    for field in ("slug", "title", "capacity", "currency", "cancellation_fee", "registration_closes_at"):
        assert f'id="{field}-error"' in page, field
        assert f'href="#{field}"' in page, field  # the summary links every problem to its field
    assert page.index('href="#title"') < page.index('href="#slug"') < page.index('href="#cancellation_fee"')
    assert "Enter a whole number." in page and "at most 2 decimals" in page and "Enter a date and time" in page
    assert 'aria-invalid="true"' in page and 'value="Not A Slug"' in page  # what was typed stays
    assert _api_event_missing(registration_app, auth, "not-a-slug")

    order = staff.post("/console/events/new", data={**NEW_EVENT, "ends_at": "2027-03-04T17:00"})
    assert order.status_code == 422 and "The event must end after it starts." in _text(order)

    created = staff.post("/console/events/new", data=NEW_EVENT)
    assert created.status_code == 303 and created.headers["Location"] == "/console/events/ai-chest-ct"
    overview = staff.get("/console/events/ai-chest-ct")
    assert overview.status_code == 200 and "created" in _text(overview) and "Unlimited, 0 taken" in _text(overview)
    event = _api_event(registration_app, auth, "ai-chest-ct")
    assert event["starts_at"] == "2027-03-04T17:00:00+00:00"  # 18:00 in Vienna, winter time
    assert event["ends_at"] == "2027-03-04T18:30:00+00:00"
    assert event["registration_closes_at"] == "2027-03-04T16:00:00+00:00"
    assert event["capacity"] is None and event["venue"] is None and event["description"] == "Line one\nLine two"
    assert (event["vat_rate"], event["prices_include_vat"], event["allows_invoice"]) == ("20.00", True, True)
    assert (event["cancellation_fee"], event["refund_partial_percent"], event["seat_hold_minutes"]) == (2500, 50, 45)
    assert event["invoice_due_days"] == 14 and event["consent_text"] == "I agree."

    again = staff.post("/console/events/new", data=NEW_EVENT)
    assert again.status_code == 422 and "Already in use." in _text(again)

    edit = staff.get("/console/events/ai-chest-ct/edit")
    assert edit.status_code == 200
    assert 'value="2027-03-04T18:00"' in _text(edit) and 'value="25.00"' in _text(edit)
    unchanged = {name: value for name, value in re.findall(r'<input type="[a-z-]+" id="[a-z_]+" name="([a-z_]+)" value="([^"]*)"',
                                                            _text(edit))}
    assert unchanged["starts_at"] == "2027-03-04T18:00" and unchanged["title"] == "AI in chest CT"

    same = staff.post("/console/events/ai-chest-ct/edit", data=NEW_EVENT)  # saved as shown: no change, no mail
    assert same.status_code == 303 and "Nothing was changed." in _text(staff.get(same.headers["Location"]))

    blank = staff.post("/console/events/ai-chest-ct/edit", data={**NEW_EVENT, "title": " ", "capacity": "-1"})
    assert blank.status_code == 422 and 'id="title-error"' in _text(blank) and 'id="capacity-error"' in _text(blank)

    saved_form = {**NEW_EVENT, "title": "AI in chest CT, 2027", "capacity": "50"}
    saved_form.pop("allows_invoice")
    saved = staff.post("/console/events/ai-chest-ct/edit", data=saved_form)
    assert saved.status_code == 303 and saved.headers["Location"] == "/console/events/ai-chest-ct"
    event = _api_event(registration_app, auth, "ai-chest-ct")
    assert (event["title"], event["capacity"], event["allows_invoice"]) == ("AI in chest CT, 2027", 50, False)
    assert event["starts_at"] == "2027-03-04T17:00:00+00:00"
    assert "Event settings saved." in _text(staff.get("/console/events/ai-chest-ct"))


def _api_event_missing(app: Flask, auth: dict[str, str], slug: str) -> bool:
    return app.test_client().get(f"/api/v1/events/{slug}", headers=auth).status_code == 404


def test_staff_add_sessions_workshops_rates_and_discount_codes(registration_app: Flask, auth: dict[str, str]) -> None:
    staff = signed_in(registration_app, "society-a", "staff")
    assert staff.post("/console/events/new", data=NEW_EVENT).status_code == 303
    base = "/console/events/ai-chest-ct"

    assert staff.get(f"{base}/sessions/new").status_code == 200
    outside = staff.post(f"{base}/sessions/new", data={"code": "LIVE", "title": "Live webinar",
                                                      "starts_at": "2027-03-04T17:00", "ends_at": "2027-03-04T19:30",
                                                      "credits": "2"})
    assert outside.status_code == 422 and "within the event" in _text(outside)
    wrong = staff.post(f"{base}/sessions/new", data={"code": "", "title": "Live", "starts_at": "x",
                                                    "ends_at": "2027-03-04T19:30", "credits": "1,5", "capacity": "9" * 40})
    assert wrong.status_code == 422 and "This number is too large." in _text(wrong)
    assert all(f'id="{field}-error"' in _text(wrong) for field in ("code", "starts_at", "credits", "capacity"))
    added = staff.post(f"{base}/sessions/new", data={"code": "LIVE", "title": "Live webinar", "capacity": "",
                                                    "starts_at": "2027-03-04T18:00", "ends_at": "2027-03-04T19:30",
                                                    "credits": "2"})
    assert added.status_code == 303 and added.headers["Location"] == base
    workshop = staff.post(f"{base}/workshops/new", data={"code": "WS1", "title": "Hands-on reading", "capacity": "12",
                                                        "starts_at": "2027-03-04T18:00", "ends_at": "2027-03-04T19:00",
                                                        "credits": "1.5", "amount": "120.00"})
    assert workshop.status_code == 303

    free = staff.post(f"{base}/rates/new", data={"code": "free", "name": "Free registration", "amount": "0",
                                                "currency": "EUR", "category": "other"})
    assert free.status_code == 303
    paid = staff.post(f"{base}/rates/new", data={"code": "member", "name": "Member", "amount": "450.00",
                                                "currency": "EUR", "category": "member", "valid_until": "2027-02-01T00:00",
                                                "requires_membership": "no"})
    assert paid.status_code == 303
    other_currency = staff.post(f"{base}/rates/new", data={"code": "usd", "name": "In dollars", "amount": "10",
                                                          "currency": "USD", "category": "other"})
    assert other_currency.status_code == 422 and "Rates of this event are in EUR." in _text(other_currency)

    neither = staff.post(f"{base}/discount-codes/new", data={"code": "save10"})
    assert neither.status_code == 422 and "Give either percent_off or amount_off." in _text(neither)
    code = staff.post(f"{base}/discount-codes/new", data={"code": "save10", "percent_off": "10", "max_uses": "5",
                                                         "rates": ["member"]})
    assert code.status_code == 303
    duplicate = staff.post(f"{base}/discount-codes/new", data={"code": "SAVE10", "amount_off": "5.00"})
    assert duplicate.status_code == 422 and "Already in use." in _text(duplicate)

    event = _api_event(registration_app, auth, "ai-chest-ct")
    sessions = {item["code"]: item for item in event["sessions"]}
    assert sessions["LIVE"]["credits"] == "2.00" and sessions["LIVE"]["is_workshop"] is False
    assert sessions["LIVE"]["starts_at"] == "2027-03-04T17:00:00+00:00" and sessions["LIVE"]["capacity"] is None
    assert (sessions["WS1"]["is_workshop"], sessions["WS1"]["amount"], sessions["WS1"]["credits"]) == (True, 12000, "1.50")
    rates = {rate["code"]: rate for rate in event["rates"]}
    assert rates["free"]["amount"] == 0 and rates["member"]["amount"] == 45000
    assert rates["member"]["requires_membership"] is False and rates["member"]["valid_until"] == "2027-01-31T23:00:00+00:00"

    overview = _text(staff.get(base))
    assert "Live webinar" in overview and "Hands-on reading" in overview and "EUR 120.00" in overview
    assert "Free registration" in overview and "EUR 450.00" in overview and "SAVE10" in overview
    assert "0 of 5" in overview and "Credits in total: 2" in overview
    assert "http://registration.test/events/ai-chest-ct" in overview


def test_the_list_counts_registrations_and_revenue(registration_app: Flask, client: FlaskClient,
                                                   auth: dict[str, str]) -> None:
    event = create_event(client, auth, capacity=2, title="Counted webinar")
    slug = event["slug"]
    assert client.post(f"/api/v1/events/{slug}/rates", headers=auth, json={
        "code": "trainee", "name": "Trainee", "amount": 0, "currency": "EUR", "category": "trainee"}).status_code == 201
    first, _second, _third = (sign_up(client, slug) for _ in range(3))
    assert _third["status"] == "waitlisted"
    sign_up(client, slug, rate="trainee")  # awaits approval
    fourth = sign_up(client, slug)
    assert fourth["status"] == "waitlisted"
    assert client.post(f"/api/v1/registrations/{first['id']}/cancel", headers=auth).status_code == 200
    create_event(client, auth, title="Last year webinar", starts_at=iso(days=-30), ends_at=iso(days=-30, hours=2))

    from registration.models import Registration
    with registration_app.app_context(), registration_app.extensions["suite_db"].session_scope() as session:
        session.execute(update(Registration).where(Registration.id == _second["id"])
                        .values(amount_paid=45000, amount_refunded=5000))

    viewer = signed_in(registration_app, "society-a", "viewer")
    page = _text(viewer.get("/console/events"))
    # confirmed, waitlisted, pending payment, awaiting approval, cancelled, revenue
    assert _row(page, "Counted webinar")[1:] == ["2", "1", "0", "1", "1", "EUR 400.00"]
    assert _row(page, "Last year webinar")[1:] == ["0", "0", "0", "0", "0", "EUR 0.00"]
    assert page.index("Counted webinar") < page.index("Last year webinar")  # upcoming first
    assert "New event" not in page

    overview = _text(viewer.get(f"/console/events/{slug}"))
    assert "<strong>1</strong> awaiting approval" in overview and "<strong>EUR 400.00</strong> revenue" in overview
    assert "Add a session" not in overview and "Change the settings" not in overview
    assert "New event" in _text(signed_in(registration_app, "society-a", "staff").get("/console/events"))


STAFF_PAGES = ("/console/events/new", "/console/events/{slug}/edit", "/console/events/{slug}/sessions/new",
               "/console/events/{slug}/workshops/new", "/console/events/{slug}/rates/new",
               "/console/events/{slug}/discount-codes/new")


def test_a_viewer_reads_but_changes_nothing(registration_app: Flask, client: FlaskClient, auth: dict[str, str]) -> None:
    slug = create_event(client, auth)["slug"]
    viewer = signed_in(registration_app, "society-a", "viewer")
    assert viewer.get("/console/events").status_code == 200
    assert viewer.get(f"/console/events/{slug}").status_code == 200
    for page in STAFF_PAGES:
        path = page.format(slug=slug)
        assert viewer.get(path).status_code == 403, path
        answer = viewer.post(path, data={**NEW_EVENT, "code": "X", "title": "Changed", "credits": "1", "amount": "0",
                                         "category": "other", "percent_off": "10"})
        assert answer.status_code == 403, path
    assert _api_event(registration_app, auth, slug)["title"] == "AI in chest CT"
    assert _api_event_missing(registration_app, auth, NEW_EVENT["slug"])


@pytest.mark.parametrize("page", ("/console/events/{slug}", *STAFF_PAGES[1:]))
def test_another_organisations_event_is_not_found(registration_app: Flask, client: FlaskClient,
                                                  other_token: str, page: str) -> None:
    slug = create_event(client, {"Authorization": f"Bearer {other_token}"})["slug"]
    staff = signed_in(registration_app, "society-a", "owner")
    path = page.format(slug=slug)
    assert staff.get(path).status_code == 404
    if page != "/console/events/{slug}":
        assert staff.post(path, data={"title": "Mine now", "code": "X"}).status_code == 404
    assert slug not in _text(staff.get("/console/events"))


# --- editing a session or workshop (PATCH /events/{slug}/sessions/{code}) ---------------------------

LIVE = {"code": "LIVE", "title": "Live webinar", "starts_at": "2027-03-04T18:00", "ends_at": "2027-03-04T19:30",
        "credits": "2", "capacity": ""}
LIVE_EDIT = "/console/events/ai-chest-ct/sessions/LIVE/edit"


def _event_with_live_session(app: Flask) -> FlaskClient:
    """Staff signed in, with the console's event ai-chest-ct and its session LIVE (2 credits)."""
    staff = signed_in(app, "society-a", "staff")
    assert staff.post("/console/events/new", data=NEW_EVENT).status_code == 303
    assert staff.post("/console/events/ai-chest-ct/sessions/new", data=LIVE).status_code == 303
    return staff


def _api_session(app: Flask, auth: dict[str, str], code: str, slug: str = "ai-chest-ct") -> dict:
    return next(item for item in _api_event(app, auth, slug)["sessions"] if item["code"] == code)


def _form_values(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="[a-z-]+" id="[^"]+" name="([^"]+)" value="([^"]*)"', page))


def test_staff_edit_a_sessions_title_and_credits_and_a_workshops_price(registration_app: Flask,
                                                                        auth: dict[str, str]) -> None:
    staff = _event_with_live_session(registration_app)
    assert staff.post("/console/events/ai-chest-ct/workshops/new", data={
        "code": "WS1", "title": "Hands-on reading", "capacity": "12", "starts_at": "2027-03-04T18:00",
        "ends_at": "2027-03-04T19:00", "credits": "1.5", "amount": "120.00"}).status_code == 303
    overview = _text(staff.get("/console/events/ai-chest-ct"))
    assert f'href="{LIVE_EDIT}">Edit LIVE</a>' in overview
    assert 'href="/console/events/ai-chest-ct/sessions/WS1/edit">Edit WS1</a>' in overview

    form = staff.get(LIVE_EDIT)
    page = _text(form)
    assert form.status_code == 200 and "cannot be changed" in page and 'name="code"' not in page
    values = _form_values(page)
    assert values == {"title": "Live webinar", "starts_at": "2027-03-04T18:00",
                      "ends_at": "2027-03-04T19:30", "credits": "2", "capacity": ""}

    unchanged = staff.post(LIVE_EDIT, data=values)
    assert unchanged.status_code == 303 and "LIVE: nothing was changed." in _text(staff.get(unchanged.headers["Location"]))

    saved = staff.post(LIVE_EDIT, data={**values, "title": "Live webinar, with questions", "credits": "1.5"})
    assert saved.status_code == 303 and saved.headers["Location"] == "/console/events/ai-chest-ct"
    assert "Session LIVE saved." in _text(staff.get(saved.headers["Location"]))
    live = _api_session(registration_app, auth, "LIVE")
    assert (live["title"], live["credits"], live["credits_by_system"]) == ("Live webinar, with questions", "1.50", None)
    assert (live["starts_at"], live["ends_at"], live["capacity"]) == ("2027-03-04T17:00:00+00:00",
                                                                      "2027-03-04T18:30:00+00:00", None)

    workshop = _form_values(_text(staff.get("/console/events/ai-chest-ct/sessions/WS1/edit")))
    assert (workshop["amount"], workshop["capacity"], workshop["credits"]) == ("120.00", "12", "1.5")
    assert staff.post("/console/events/ai-chest-ct/sessions/WS1/edit",
                      data={**workshop, "amount": "95.50", "capacity": "20"}).status_code == 303
    ws1 = _api_session(registration_app, auth, "WS1")
    assert (ws1["amount"], ws1["capacity"], ws1["is_workshop"], ws1["credits"]) == (9550, 20, True, "1.50")


def test_a_session_ending_before_it_starts_is_refused_and_nothing_changes(registration_app: Flask,
                                                                          auth: dict[str, str]) -> None:
    staff = _event_with_live_session(registration_app)
    before = _api_session(registration_app, auth, "LIVE")
    answer = staff.post(LIVE_EDIT, data={**LIVE, "title": " ", "starts_at": "2027-03-04T19:00",
                                         "ends_at": "2027-03-04T18:30"})
    page = _text(answer)
    assert answer.status_code == 422 and "The session must end after it starts." in page
    for field in ("title", "ends_at"):  # every problem at once, each on its field and in the summary
        assert f'id="{field}-error"' in page and f'href="#{field}"' in page, field
    assert 'aria-invalid="true"' in page and 'value="2027-03-04T19:00"' in page  # what was typed stays
    fields = staff.post(LIVE_EDIT, data={**LIVE, "credits": "lots", "capacity": "ten", "starts_at": "someday"})
    assert fields.status_code == 422
    assert all(f'id="{field}-error"' in _text(fields) for field in ("credits", "capacity", "starts_at"))
    outside = staff.post(LIVE_EDIT, data={**LIVE, "title": "Moved", "ends_at": "2027-03-04T20:00"})
    assert outside.status_code == 422 and "within the event" in _text(outside)  # the service's refusal
    assert _api_session(registration_app, auth, "LIVE") == before


def test_credits_per_credit_system_are_edited_one_input_each(registration_app: Flask, auth: dict[str, str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    staff = _event_with_live_session(registration_app)
    systems = {"credit_systems": [{"code": "ECMEC", "name": "European CME credits"},
                                  {"code": "NVVTG", "name": "NVvTG points"}]}
    asked: list[str] = []

    def accreditation(service: str, path: str, params: dict | None = None) -> dict:
        asked.append(f"{service} {path}")
        return systems

    monkeypatch.setattr("registration.console.remote.get_json", accreditation)
    page = _text(staff.get(LIVE_EDIT))
    assert asked == ["certificates /api/v1/events/ai-chest-ct/accreditation"]
    values = _form_values(page)
    assert (values["credits-ECMEC"], values["credits-NVVTG"]) == ("2", "")  # plain credits are the first system's
    assert 'name="credits"' not in page and "Credits in NVvTG points (NVVTG)" in page

    bad = staff.post(LIVE_EDIT, data={**values, "credits-NVVTG": "a lot"})
    assert bad.status_code == 422 and 'id="credits-NVVTG-error"' in _text(bad)
    assert staff.post(LIVE_EDIT, data={**values, "credits-NVVTG": "1"}).status_code == 303
    live = _api_session(registration_app, auth, "LIVE")
    assert {code: float(amount) for code, amount in live["credits_by_system"].items()} == {"ECMEC": 2, "NVVTG": 1}
    shown = _form_values(_text(staff.get(LIVE_EDIT)))
    assert (shown["credits-ECMEC"], shown["credits-NVVTG"]) == ("2", "1")


def test_a_viewer_may_not_edit_a_session(registration_app: Flask, auth: dict[str, str]) -> None:
    staff = _event_with_live_session(registration_app)
    viewer = signed_in(registration_app, "society-a", "viewer")
    assert viewer.get(LIVE_EDIT).status_code == 403
    assert viewer.post(LIVE_EDIT, data={**LIVE, "title": "Changed"}).status_code == 403
    assert _api_session(registration_app, auth, "LIVE")["title"] == "Live webinar"
    assert "Edit LIVE" not in _text(viewer.get("/console/events/ai-chest-ct"))
    assert "Edit LIVE" in _text(staff.get("/console/events/ai-chest-ct"))


def test_another_organisations_session_and_an_unknown_code_are_not_found(
        registration_app: Flask, client: FlaskClient, auth: dict[str, str], other_token: str) -> None:
    other = {"Authorization": f"Bearer {other_token}"}
    theirs = create_event(client, other)["slug"]
    assert client.post(f"/api/v1/events/{theirs}/sessions", headers=other, json={
        "code": "LIVE", "title": "Theirs", "starts_at": iso(days=10), "ends_at": iso(days=10, hours=1),
        "credits": "1"}).status_code == 201
    owner = signed_in(registration_app, "society-a", "owner")
    assert owner.get(f"/console/events/{theirs}/sessions/LIVE/edit").status_code == 404
    assert owner.post(f"/console/events/{theirs}/sessions/LIVE/edit", data={"title": "Mine now"}).status_code == 404
    assert _api_session(registration_app, other, "LIVE", theirs)["title"] == "Theirs"

    ours = create_event(client, auth)["slug"]
    assert owner.get(f"/console/events/{ours}/sessions/NOPE/edit").status_code == 404
    assert owner.post(f"/console/events/{ours}/sessions/NOPE/edit", data={"title": "New"}).status_code == 404
