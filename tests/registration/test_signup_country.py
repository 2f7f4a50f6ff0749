"""The sign-up form asks for the country (optional), as the accreditor's summary counts participants by
country: every ISO 3166-1 country, named in the page's language, stored as its code in the answers as
the JSON sign-up stores it, and handed to certificates on the internal attendees list."""
from __future__ import annotations

import html
import re

from flask.testing import FlaskClient

from suite_common.auth import sign
from tests.support.factories import create_event

FORM = {"given_name": "Bas", "family_name": "de Boer", "email": "bas@ziekenhuis.example", "rate": "free",
        "consent": "yes", "form_key": "country-key", "profession": "Radiographer / technologist"}


def _options(page: str) -> list[tuple[str, str]]:
    select = re.search(r'<select id="country" name="country"[^>]*>(.*?)</select>', page, re.S)
    assert select, "the form has no country select"
    return [(code, html.unescape(name)) for code, name in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>',
                                                                     select.group(1))]


def _hidden(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)}


def test_the_form_offers_every_iso_3166_country_in_the_pages_language(client: FlaskClient, auth: dict[str, str]) -> None:
    slug = create_event(client, auth)["slug"]
    english = _options(client.get(f"/events/{slug}/register").get_data(as_text=True))
    assert english[0][0] == "" and len(english) == 1 + 249  # "Choose…", then ISO 3166-1's assigned codes
    names = dict(english)
    assert (names["NL"], names["DE"], names["CI"]) == ("Netherlands", "Germany", "Côte d’Ivoire")
    assert not {"EU", "UN", "XK", "ZZ", "001"} & set(names)
    german = dict(_options(client.get(f"/events/{slug}/register?lang=de").get_data(as_text=True)))
    assert (german["NL"], german["AT"]) == ("Niederlande", "Österreich")
    order = [code for code, _name in _options(client.get(f"/events/{slug}/register?lang=de").get_data(as_text=True))]
    assert order.index("NO") < order.index("AT") < order.index("PK")  # Österreich sorts as Osterreich
    assert "Land, in dem Sie arbeiten" in client.get(f"/events/{slug}/register?lang=de").get_data(as_text=True)


def test_the_country_chosen_is_reviewed_stored_as_its_code_and_reaches_certificates(
        client: FlaskClient, auth: dict[str, str]) -> None:
    slug = create_event(client, auth)["slug"]
    review = client.post(f"/events/{slug}/register/review?lang=nl", data={**FORM, "country": "NL"})
    page = review.get_data(as_text=True)
    assert review.status_code == 200 and "<dd>Nederland</dd>" in page
    assert _hidden(page)["country"] == "NL"
    confirmed = client.post(f"/events/{slug}/register", data=_hidden(page))
    assert confirmed.status_code == 303, confirmed.get_data(as_text=True)
    [person] = client.get(f"/api/v1/events/{slug}/registrations", headers=auth).get_json()["items"]
    registration = client.get(f"/api/v1/registrations/{person['id']}", headers=auth).get_json()
    assert registration["answers"]["country"] == "NL"

    organisation_id = client.get("/api/v1/organisation", headers=auth).get_json()["id"]
    path = f"/internal/v1/events/{slug}/attendees?organisation_id={organisation_id}"
    items = client.get(path, headers=sign("certificates", "dev-insecure-certificates-key", "GET", path, b"")).get_json()
    assert [(item["country"], item["profession"]) for item in items["items"]] == [("NL", "Radiographer / technologist")]


def test_a_country_not_on_the_list_is_refused_on_its_field_and_none_is_fine(client: FlaskClient,
                                                                           auth: dict[str, str]) -> None:
    slug = create_event(client, auth)["slug"]
    refused = client.post(f"/events/{slug}/register/review", data={**FORM, "country": "Atlantis"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="country-error"' in page and "Choose a country from the list." in page and 'href="#country"' in page
    assert 'id="country" name="country" autocomplete="country" aria-invalid="true"' in page
    direct = client.post(f"/events/{slug}/register", data={**FORM, "country": "EU"})  # the final step checks too
    assert direct.status_code == 422 and 'id="country-error"' in direct.get_data(as_text=True)
    assert client.get(f"/api/v1/events/{slug}/registrations", headers=auth).get_json()["items"] == []

    without = client.post(f"/events/{slug}/register", data=FORM)
    assert without.status_code == 303
    [person] = client.get(f"/api/v1/events/{slug}/registrations", headers=auth).get_json()["items"]
    assert "country" not in client.get(f"/api/v1/registrations/{person['id']}", headers=auth).get_json()["answers"]
