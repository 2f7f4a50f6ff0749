"""The console's branding page: owners set the society's look and logo with the API's rules, and
see every refusal in the form."""
from __future__ import annotations

import io

from flask import Flask

from tests.registration.test_branding import image_bytes
from tests.support.console import signed_in

OURS = "society-a"


def _branding(app: Flask) -> dict[str, object]:
    from registration.models import Organisation
    from registration.services import organisations

    with app.app_context(), app.extensions["suite_db"].session_scope() as session:
        organisation = organisations.get_or_create_organisation(session, OURS, OURS.title())
        stored = session.get(Organisation, organisation.id)
        return {"display_name": stored.brand_display_name, "colour": stored.brand_colour,
                "footer": stored.brand_footer, "privacy": stored.brand_privacy_url, "reply_to": stored.brand_reply_to,
                "logo": stored.logo, "logo_type": stored.logo_content_type}


def _upload(client, data: bytes, filename: str = "logo.png"):  # type: ignore[no-untyped-def]
    return client.post("/console/branding/logo", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_an_owner_saves_the_societys_look_and_an_empty_field_is_the_default_again(registration_app: Flask) -> None:
    owner = signed_in(registration_app, OURS, "owner")
    page = owner.get("/console/branding")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="/console/branding" aria-current="page">Branding</a>' in html  # the owner's navigation
    assert 'enctype="multipart/form-data"' in html

    saved = owner.post("/console/branding", data={
        "display_name": "Nederlandse Vereniging voor Beeldvorming", "primary_colour": "#7A1F5C",
        "footer_text": "Postbus 1\r\n3500 AA Utrecht", "privacy_url": "https://nvb.example/privacy",
        "reply_to": "secretariaat@nvb.example"})
    assert saved.status_code == 303 and saved.headers["Location"].endswith("/console/branding")
    assert _branding(registration_app) == {
        "display_name": "Nederlandse Vereniging voor Beeldvorming", "colour": "#7a1f5c",
        "footer": "Postbus 1\n3500 AA Utrecht", "privacy": "https://nvb.example/privacy",
        "reply_to": "secretariaat@nvb.example", "logo": None, "logo_type": None}
    shown = owner.get("/console/branding").get_data(as_text=True)
    assert 'value="Nederlandse Vereniging voor Beeldvorming"' in shown and "with white text on it" in shown
    assert "is saved" in shown

    owner.post("/console/branding", data={"display_name": "", "primary_colour": "#7a1f5c", "footer_text": "",
                                          "privacy_url": "", "reply_to": ""})
    assert _branding(registration_app)["display_name"] is None
    assert _branding(registration_app)["colour"] == "#7a1f5c"


def test_every_error_of_the_form_is_shown_at_once_and_nothing_is_saved(registration_app: Flask) -> None:
    owner = signed_in(registration_app, OURS, "owner")
    answer = owner.post("/console/branding", data={
        "display_name": "NVB", "primary_colour": "purple", "footer_text": "", "privacy_url": "http://nvb.example",
        "reply_to": "not an address"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="error-summary"' in html and "Use a colour as #RRGGBB." in html
    for name in ("primary_colour", "privacy_url", "reply_to"):
        assert f'id="{name}-error"' in html and f'href="#{name}"' in html
    assert 'value="purple"' in html  # the form keeps what was typed
    assert _branding(registration_app)["display_name"] is None


def test_the_logo_is_uploaded_replaced_and_refused_with_the_apis_words(registration_app: Flask) -> None:
    owner = signed_in(registration_app, OURS, "owner")
    png = image_bytes("PNG")
    assert _upload(owner, png).status_code == 303
    assert _branding(registration_app)["logo"] == png
    shown = owner.get("/console/branding").get_data(as_text=True)
    assert "PNG, 120 × 40 pixels" in shown and "Replace the logo" in shown
    assert 'alt="Your society’s current logo"' in shown

    jpeg = image_bytes("JPEG", (300, 100))
    assert _upload(owner, jpeg, "logo.jpg").status_code == 303
    assert _branding(registration_app)["logo"] == jpeg and _branding(registration_app)["logo_type"] == "image/jpeg"

    for data, status, words in (
            (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", 422, "PNG or JPEG"),
            (image_bytes("PNG", (2400, 10)), 422, "2400 × 10 pixels"),
            (b"\x89PNG\r\n\x1a\n" + b"\x00" * (600 * 1024), 413, "512 KB")):
        refused = _upload(owner, data, "logo.svg")
        html = refused.get_data(as_text=True)
        assert refused.status_code == status, html
        assert words in html and 'id="file-error"' in html and 'aria-invalid="true"' in html
        assert _branding(registration_app)["logo"] == jpeg

    nothing = owner.post("/console/branding/logo", data={}, content_type="multipart/form-data")
    assert nothing.status_code == 422 and "Choose a PNG or JPEG file" in nothing.get_data(as_text=True)


def test_staff_and_viewers_have_no_branding_page_or_link(registration_app: Flask) -> None:
    for role in ("staff", "viewer"):
        browser = signed_in(registration_app, OURS, role)
        assert browser.get("/console/branding").status_code == 403
        assert "/console/branding" not in browser.get("/console/events").get_data(as_text=True)
        assert browser.post("/console/branding", data={"display_name": "Hijack"}).status_code == 403
    assert _branding(registration_app)["display_name"] is None
