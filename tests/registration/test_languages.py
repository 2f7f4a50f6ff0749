"""The attendee's language on registration's pages and registrations: how it is chosen (?lang=, the cookie,
Accept-Language), the switcher, dates and money per locale, the organiser's translated texts, and the
language stored with a registration and carried to the roster, the internal API and every mail."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from sqlalchemy import select

from suite_common.auth import sign
from suite_common.i18n import format_money, format_percentage, format_span, format_when
from tests.support.factories import create_event, signup_payload

START, END = "2031-03-04T09:00:00+01:00", "2031-03-04T17:30:00+01:00"  # a Tuesday, Vienna winter time


def html_lang(body: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', body)
    assert match, "the page has no <html lang>"
    return match.group(1)


def switcher_links(body: str) -> list[tuple[str, str, bool]]:
    """(href, hreflang, current) of each link in the language switcher."""
    nav = re.search(r'<nav class="language-switcher"[^>]*>(.*?)</nav>', body, re.S)
    assert nav, "the page has no language switcher"
    return [(href.replace("&amp;", "&"), code, "aria-current" in rest)
            for href, code, rest in re.findall(r'<a href="([^"]+)" lang="[^"]+" hreflang="([^"]+)"([^>]*)>', nav.group(1))]


def paid_event(client: FlaskClient, auth: dict[str, str], **overrides: Any) -> dict[str, Any]:
    event = create_event(client, auth, rate=None, starts_at=START, ends_at=END, **overrides)
    response = client.post(f"/api/v1/events/{event['slug']}/rates", headers=auth, json={
        "code": "regular", "name": "Regular", "amount": 15000, "currency": event["currency"], "category": "other",
        "translations": {"nl": {"name": "Normaal tarief"}}})
    assert response.status_code == 201, response.get_json()
    return event


def form(email: str) -> dict[str, str]:
    return {"given_name": "Anna", "family_name": "de Vries", "email": email, "rate": "free", "consent": "yes"}


def internal_attendees(client: FlaskClient, auth: dict[str, str], slug: str) -> list[dict[str, Any]]:
    organisation_id = client.get("/api/v1/organisation", headers=auth).get_json()["id"]
    path = f"/internal/v1/events/{slug}/attendees?organisation_id={organisation_id}"
    response = client.get(path, headers=sign("certificates", "dev-insecure-certificates-key", "GET", path, b""))
    assert response.status_code == 200
    return response.get_json()["items"]


def roster_languages(client: FlaskClient, auth: dict[str, str], slug: str) -> dict[str, str]:
    items = client.get(f"/api/v1/events/{slug}/registrations", headers=auth).get_json()["items"]
    return {item["email"]: item["language"] for item in items}


# --- choosing the language ---------------------------------------------------------------


def test_lang_parameter_gives_dutch_pages_and_the_cookie_keeps_them(client, auth):
    event = create_event(client, auth, starts_at=START, ends_at=END)
    response = client.get(f"/events/{event['slug']}?lang=nl")
    body = response.get_data(as_text=True)
    assert html_lang(body) == "nl"
    assert ">Inschrijven</a>" in body and "Wanneer" in body and "Waar" in body
    assert "lang=nl" in response.headers["Set-Cookie"] and "SameSite=Lax" in response.headers["Set-Cookie"]
    # The next page, without ?lang, stays Dutch: the cookie remembers the choice.
    form_page = client.get(f"/events/{event['slug']}/register").get_data(as_text=True)
    assert html_lang(form_page) == "nl" and "Voornaam" in form_page and "Achternaam" in form_page
    assert "Given name" not in form_page


def test_accept_language_chooses_the_first_language_the_suite_speaks(client, auth):
    event = create_event(client, auth)
    german = client.get(f"/events/{event['slug']}/register",
                        headers={"Accept-Language": "ja;q=1.0, de-AT;q=0.9, fr;q=0.5"}).get_data(as_text=True)
    assert html_lang(german) == "de" and "Vorname" in german and "Einwilligung" not in german
    unknown = client.get(f"/events/{event['slug']}/register", headers={"Accept-Language": "ja, zh"})
    assert html_lang(unknown.get_data(as_text=True)) == "en" and "Given name" in unknown.get_data(as_text=True)
    assert "Set-Cookie" not in unknown.headers  # only an explicit choice is remembered


def test_lang_parameter_wins_over_accept_language_and_an_unknown_one_is_ignored(client, auth):
    event = create_event(client, auth)
    bogus = client.get(f"/events/{event['slug']}?lang=xx", headers={"Accept-Language": "de"})
    assert html_lang(bogus.get_data(as_text=True)) == "de" and "Set-Cookie" not in bogus.headers
    french = client.get(f"/events/{event['slug']}?lang=fr", headers={"Accept-Language": "de"})
    assert html_lang(french.get_data(as_text=True)) == "fr" and ">S'inscrire</a>" in french.get_data(as_text=True)


def test_switcher_links_to_the_same_page_in_each_language(client, auth):
    event = create_event(client, auth)
    body = client.get(f"/events/{event['slug']}/register?lang=de").get_data(as_text=True)
    assert 'aria-label="Sprache"' in body
    path = f"/events/{event['slug']}/register"
    assert switcher_links(body) == [(f"{path}?lang=en", "en", False), (f"{path}?lang=nl", "nl", False),
                                    (f"{path}?lang=de", "de", True), (f"{path}?lang=fr", "fr", False)]
    # Following a link of the switcher gives that page in that language.
    dutch = client.get(switcher_links(body)[1][0]).get_data(as_text=True)
    assert html_lang(dutch) == "nl" and "Inschrijven voor" in dutch


def test_the_api_answers_in_english_whatever_the_browser_asks(client, auth):
    event = create_event(client, auth)
    response = client.post(f"/api/v1/events/{event['slug']}/registrations", headers={"Accept-Language": "nl"},
                           json=signup_payload(rate="no-such-rate"))
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["rate"] == ["Unknown rate, or no longer on offer."]


def test_a_refusal_on_the_form_is_in_the_page_language(client, auth):
    event = create_event(client, auth)
    response = client.post(f"/events/{event['slug']}/register?lang=fr", data={**form("x@hospital.example"),
                                                                             "rate": "no-such-rate"})
    assert response.status_code == 422
    assert "Tarif inconnu ou qui n&#39;est plus proposé." in response.get_data(as_text=True)


# --- the registration's language -----------------------------------------------------------


def test_a_sign_up_on_dutch_pages_is_stored_as_dutch(client, auth):
    event = create_event(client, auth)
    client.get(f"/events/{event['slug']}?lang=nl")
    response = client.post(f"/events/{event['slug']}/register", data=form("anna@hospital.example"))
    assert response.status_code == 303
    manage = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "U bent ingeschreven." in manage and "Bevestigd" in manage
    assert roster_languages(client, auth, event["slug"]) == {"anna@hospital.example": "nl"}


def test_json_sign_up_stores_its_language_for_the_roster_the_internal_api_and_every_mail(client, auth,
                                                                                      registration_app: Flask):
    from registration.models import Outbox

    event = create_event(client, auth)
    response = client.post(f"/api/v1/events/{event['slug']}/registrations",
                           json=signup_payload(email="nl@hospital.example", language="nl"))
    assert response.status_code == 201, response.get_json()
    from_browser = client.post(f"/api/v1/events/{event['slug']}/registrations", headers={"Accept-Language": "fr-BE"},
                               json=signup_payload(email="fr@hospital.example"))
    plain = client.post(f"/api/v1/events/{event['slug']}/registrations", json=signup_payload(email="en@hospital.example"))
    assert from_browser.status_code == plain.status_code == 201

    assert roster_languages(client, auth, event["slug"]) == {
        "nl@hospital.example": "nl", "fr@hospital.example": "fr", "en@hospital.example": "en"}
    assert {item["email"]: item["language"] for item in internal_attendees(client, auth, event["slug"])} == {
        "nl@hospital.example": "nl", "fr@hospital.example": "fr", "en@hospital.example": "en"}
    with registration_app.extensions["suite_db"].session_scope() as session:
        mails = [row.body for row in session.scalars(select(Outbox).where(Outbox.target == "notifications"))]
    by_person = {body["to"]: body["language"] for body in mails}
    assert by_person == {"nl@hospital.example": "nl", "fr@hospital.example": "fr", "en@hospital.example": "en"}
    assert all("language" in body for body in mails)


@pytest.mark.parametrize("language", ["xx", "NL", "nl-BE", "", 7, None])
def test_json_sign_up_refuses_a_language_the_suite_does_not_speak(client, auth, language):
    event = create_event(client, auth)
    response = client.post(f"/api/v1/events/{event['slug']}/registrations",
                           json=signup_payload(language=language))
    assert response.status_code == 422
    assert "language" in response.get_json()["error"]["fields"]
    assert client.get(f"/api/v1/events/{event['slug']}/registrations", headers=auth).get_json()["items"] == []


# --- formats per locale -----------------------------------------------------------------------


def test_money_and_dates_on_the_form_follow_the_locale(client, auth):
    event = paid_event(client, auth, vat_rate="21")
    pages = {lang: client.get(f"/events/{event['slug']}/register?lang={lang}").get_data(as_text=True)
             for lang in ("en", "nl", "de", "fr")}
    assert "€150.00" in pages["en"] and "incl. 21% VAT" in pages["en"]
    assert "€\xa0150,00" in pages["nl"] and "incl. 21% btw" in pages["nl"]
    assert "150,00\xa0€" in pages["de"] and "inkl. 21\xa0% MwSt." in pages["de"]
    assert "150,00\xa0€" in pages["fr"] and "TVA de 21\xa0% incluse" in pages["fr"]
    assert "Tue, Mar 4, 2031, 9:00\u202fAM – 5:30\u202fPM (Europe/Vienna)" in pages["en"]
    assert "di 4 mrt 2031, 09:00 – 17:30 (Europe/Vienna)" in pages["nl"]
    assert "Di., 4. März 2031, 09:00 – 17:30 (Europe/Vienna)" in pages["de"]
    assert "mar. 4 mars 2031, 09:00 – 17:30 (Europe/Vienna)" in pages["fr"]


def test_format_helpers_keep_iso_minor_units_and_the_event_time_zone():
    assert format_money(123450, "EUR", "nl") == "€\xa01.234,50"
    assert format_money(-500, "EUR", "de") == "-5,00\xa0€"
    assert format_money(12345, "JPY", "en") == "¥12,345"
    assert format_money(1234567, "KWD", "fr") == "1\u202f234,567\xa0KWD"
    assert format_percentage(Decimal("7.7"), "de") == "7,7\xa0%"
    after_midnight = dt.datetime(2031, 3, 4, 23, 30, tzinfo=dt.UTC)  # already the next day in Vienna
    assert format_when(after_midnight, "Europe/Vienna", "nl") == "wo 5 mrt 2031, 00:30"
    late = dt.datetime(2031, 3, 4, 22, 30, tzinfo=dt.UTC)
    assert format_span(late, late + dt.timedelta(hours=2), "Europe/Vienna", "en") == (
        "Tue, Mar 4, 2031, 11:30\u202fPM – Wed, Mar 5, 2031, 1:30\u202fAM")


def test_plural_forms_follow_the_language(registration_app: Flask):
    template = "{{ ngettext('%(num)d seat left', '%(num)d seats left', n) }}"
    said = {}
    for lang in ("en", "nl", "de", "fr"):
        for n in (1, 2):
            with registration_app.test_request_context(f"/?lang={lang}"):
                said[lang, n] = render_template_string(template, n=n)
    assert said == {("en", 1): "1 seat left", ("en", 2): "2 seats left",
                    ("nl", 1): "nog 1 plaats", ("nl", 2): "nog 2 plaatsen",
                    ("de", 1): "noch 1 Platz frei", ("de", 2): "noch 2 Plätze frei",
                    ("fr", 1): "1 place restante", ("fr", 2): "2 places restantes"}


# --- the organiser's own texts ------------------------------------------------------------------


def test_the_organisers_translations_show_in_their_language_only(client, auth):
    event = paid_event(client, auth, title="Cardiac imaging day", description="A day on the heart.", translations={
        "nl": {"title": "Dag van de cardiale beeldvorming", "description": "Een dag over het hart."},
        "de": {"title": "Tag der Herzbildgebung"}})
    assert event["translations"]["nl"]["title"] == "Dag van de cardiale beeldvorming"
    dutch = client.get(f"/events/{event['slug']}?lang=nl").get_data(as_text=True)
    assert "Dag van de cardiale beeldvorming" in dutch and "Een dag over het hart." in dutch
    assert "Normaal tarief" in client.get(f"/events/{event['slug']}/register").get_data(as_text=True)
    german = client.get(f"/events/{event['slug']}?lang=de").get_data(as_text=True)
    assert "Tag der Herzbildgebung" in german and "A day on the heart." in german  # no German description
    french = client.get(f"/events/{event['slug']}/register?lang=fr").get_data(as_text=True)
    assert "Cardiac imaging day" in french and "Regular" in french


def test_translations_are_checked(client, auth):
    event = create_event(client, auth)
    for bad in ({"xx": {"title": "?"}}, {"nl": {"venue": "?"}}, {"nl": {"title": ""}}, {"nl": "Titel"}):
        response = client.patch(f"/api/v1/events/{event['slug']}", headers=auth, json={"translations": bad})
        assert response.status_code == 422, bad
    response = client.patch(f"/api/v1/events/{event['slug']}", headers=auth,
                            json={"translations": {"fr": {"title": "Journée"}}})
    assert response.status_code == 200 and response.get_json()["translations"] == {"fr": {"title": "Journée"}}
