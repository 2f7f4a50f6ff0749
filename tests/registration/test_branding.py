"""The organisation's branding: the API's validation, the logo's checks, scoping, and its place on pages."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from suite_common.branding import contrast_ratio, text_colour_on
from tests.support.assertions import assert_error
from tests.support.factories import create_event, sign_up

BRANDING = {"display_name": "Nederlandse Vereniging voor Beeldvorming", "primary_colour": "#F4C430",
            "footer_text": "Postbus 1, 3500 AA Utrecht\nKvK 12345678", "privacy_url": "https://nvb.example/privacy",
            "reply_to": "secretariaat@nvb.example"}


def image_bytes(kind: str = "PNG", size: tuple[int, int] = (120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, kind)
    return buffer.getvalue()


def upload(client, auth, data: bytes, filename: str = "logo.png"):  # type: ignore[no-untyped-def]
    return client.put("/api/v1/organisation/branding/logo", headers=auth,
                      data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def test_every_colour_gets_a_text_colour_that_passes_wcag_aa():
    for colour in ("#000000", "#ffffff", "#777777", "#767676", "#f4c430", "#0b3d5c", "#ff0000", "#00ff00"):
        assert contrast_ratio(colour, text_colour_on(colour)) >= 4.5, colour
    assert text_colour_on("#f4c430") == "#000000"
    assert text_colour_on("#0b3d5c") == "#ffffff"


def test_branding_is_stored_and_read_back_with_the_chosen_text_colour(client, auth):
    response = client.put("/api/v1/organisation/branding", json=BRANDING, headers=auth)
    assert response.status_code == 200, response.get_json()
    body = client.get("/api/v1/organisation/branding", headers=auth).get_json()
    assert body == {**BRANDING, "primary_colour": "#f4c430", "text_colour": "#000000", "logo": None}


@pytest.mark.parametrize(("field", "value"), [
    ("primary_colour", "red"), ("primary_colour", "#12345"), ("primary_colour", "#12345g"),
    ("privacy_url", "http://nvb.example/privacy"), ("privacy_url", "javascript:alert(1)"),
    ("reply_to", "not an address"), ("display_name", "x" * 201), ("display_name", "Evil\u202eSociety"),
])
def test_invalid_branding_is_refused_field_by_field(client, auth, field, value):
    response = client.put("/api/v1/organisation/branding", json={**BRANDING, field: value}, headers=auth)
    assert_error(response, 422, "validation_error", field)
    assert client.get("/api/v1/organisation/branding", headers=auth).get_json()["display_name"] is None


def test_branding_needs_a_token_and_reaches_only_its_own_organisation(client, auth, other_token):
    assert_error(client.get("/api/v1/organisation/branding"), 401, "unauthorized")
    client.put("/api/v1/organisation/branding", json=BRANDING, headers=auth)
    other = client.get("/api/v1/organisation/branding", headers={"Authorization": f"Bearer {other_token}"})
    assert other.get_json()["display_name"] is None


@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
def test_a_png_or_jpeg_logo_is_taken_and_served(client, auth, kind):
    data = image_bytes(kind)
    response = upload(client, auth, data, f"logo.{kind.lower()}")
    assert response.status_code == 200, response.get_json()
    logo = response.get_json()["logo"]
    assert (logo["content_type"], logo["width"], logo["height"], logo["bytes"]) == (
        f"image/{kind.lower()}", 120, 40, len(data))
    served = client.get(logo["url"].split("localhost", 1)[-1])
    assert served.status_code == 200 and served.data == data and served.mimetype == f"image/{kind.lower()}"


@pytest.mark.parametrize(("data", "status", "words"), [
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", 422, "PNG or JPEG"),
    (b"%PDF-1.7 not an image at all", 422, "PNG or JPEG"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, 422, "not a readable PNG"),
    (image_bytes("PNG")[:-40], 422, "not a readable PNG"),
    (image_bytes("PNG", (2400, 10)), 422, "2400 × 10 pixels"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * (600 * 1024), 413, "512 KB"),
])
def test_a_logo_that_is_not_an_image_or_too_large_is_refused_with_words(client, auth, data, status, words):
    response = upload(client, auth, data)
    error = assert_error(response, status, "validation_error" if status == 422 else "payload_too_large", "file")
    assert words in " ".join(error["fields"]["file"])
    assert client.get("/api/v1/organisation/branding", headers=auth).get_json()["logo"] is None


def test_a_logo_upload_without_a_file_is_refused(client, auth):
    response = client.put("/api/v1/organisation/branding/logo", headers=auth, data={},
                          content_type="multipart/form-data")
    assert_error(response, 422, "validation_error", "file")


@pytest.mark.parametrize("extra", [
    pytest.param("brand colour", id="text-part"),
    pytest.param((b"second", "second.png"), id="file-part"),
])
def test_a_logo_upload_with_another_part_is_refused_as_the_openapi_says(client, auth, extra):
    """Found by the fuzz: the OpenAPI publishes the upload with ``additionalProperties: false``, yet a
    stray multipart field was ignored and the logo taken (200). The stray part is now named in a 422."""
    spec = client.get("/openapi.json").get_json()
    assert spec["components"]["schemas"]["LogoUpload"]["additionalProperties"] is False
    response = client.put("/api/v1/organisation/branding/logo", headers=auth, content_type="multipart/form-data",
                          data={"file": (io.BytesIO(image_bytes()), "logo.png"),
                                # a file part is made afresh for each database: a stream is read once
                                "colour": (io.BytesIO(extra[0]), extra[1]) if isinstance(extra, tuple) else extra})
    error = assert_error(response, 422, "validation_error", "colour")
    assert set(error["fields"]) == {"colour"}
    assert client.get("/api/v1/organisation/branding", headers=auth).get_json()["logo"] is None


def test_branding_reaches_the_event_page_and_the_attendee_page(client, auth):
    client.put("/api/v1/organisation/branding", json=BRANDING, headers=auth)
    upload(client, auth, image_bytes())
    event = create_event(client, auth)
    registration = sign_up(client, event["slug"])
    for path in (f"/events/{event['slug']}", f"/events/{event['slug']}/register",
                 registration["manage_url"].split("localhost", 1)[-1]):
        page = client.get(path).get_data(as_text=True)
        assert "Nederlandse Vereniging voor Beeldvorming" in page, path
        assert "Postbus 1, 3500 AA Utrecht" in page and 'href="https://nvb.example/privacy"' in page, path
        stylesheet = re.search(r'href="(/brand/\d+/style\.css[^"]*)"', page)
        logo = re.search(r'src="(/brand/\d+/logo[^"]*)"', page)
        assert stylesheet and logo, path
    css = client.get(stylesheet.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "background: #f4c430; color: #000000" in css
    assert client.get(logo.group(1).replace("&amp;", "&")).status_code == 200


def test_the_internal_branding_needs_a_service_signature(client):
    assert client.get("/internal/v1/organisations/1/branding").status_code == 401
