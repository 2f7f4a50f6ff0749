"""The society's branding, set once at registration, reaches the other services over the internal API:
certificates' pages, notifications' mails (HTML with the logo inline, plain text, From name and Reply-To), and every
service's favicon and error page, between real processes and a real SMTP server."""
from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
import requests
from PIL import Image

from devtools.smtp_sink import SmtpSink
from devtools.stack import Stack
from tests.support.factories import event_payload
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e

BRANDING = {"display_name": "Société Française de Radiologie", "primary_colour": "#7a1f3d",
            "footer_text": "47 rue de la Colonie, 75013 Paris\nSIRET 123 456 789 00012",
            "privacy_url": "https://sfr.example/confidentialite", "reply_to": "congres@sfr.example"}


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, SmtpSink]]:
    var = tmp_path_factory.mktemp("branding")
    with SmtpSink(var / "mail") as sink, running_stack(var, SMTP_PORT=str(sink.port)) as stack:
        yield stack, sink


def _logo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (90, 30), (122, 31, 61)).save(buffer, "PNG")
    return buffer.getvalue()


def _branded_event(stack: Stack, organisation: str) -> tuple[str, dict[str, str], dict]:
    base = url(stack, "registration")
    auth = {"Authorization": f"Bearer {stack.create_token(organisation)}"}
    assert requests.put(f"{base}/api/v1/organisation/branding", json=BRANDING, headers=auth).status_code == 200
    logo = requests.put(f"{base}/api/v1/organisation/branding/logo", headers=auth,
                        files={"file": ("logo.png", _logo(), "image/png")})
    assert logo.status_code == 200, logo.text
    event = requests.post(f"{base}/api/v1/events", headers=auth, json=event_payload(title="Journées 2031")).json()
    assert requests.post(f"{base}/api/v1/events/{event['slug']}/rates", headers=auth, json={
        "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"}).status_code == 201
    return base, auth, event


def test_mails_carry_the_societys_name_footer_privacy_link_and_reply_to(suite: tuple[Stack, SmtpSink]) -> None:
    stack, sink = suite
    sink.clear()
    base, _auth, event = _branded_event(stack, "branded-mail")
    response = requests.post(f"{base}/api/v1/events/{event['slug']}/registrations", json={
        "email": "fang@hospital.example", "given_name": "芳", "family_name": "王", "rate": "free", "consent": True})
    assert response.status_code == 201, response.text
    mail = sink.wait_for(1, timeout=30)[0]
    assert mail["Reply-To"] == "congres@sfr.example"
    assert "Société Française de Radiologie" in str(mail["From"])
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "王 芳" in text and "芳 王" not in text  # a name in Han script: family name first
    assert "-- \nSociété Française de Radiologie\n47 rue de la Colonie, 75013 Paris\nSIRET 123 456 789 00012" in text
    assert "Privacy policy: https://sfr.example/confidentialite" in text
    assert "background: #7a1f3d; color: #ffffff" in html and "Société Française de Radiologie" in html
    assert 'href="https://sfr.example/confidentialite"' in html and "SIRET 123 456 789 00012" in html
    [logo] = [part for part in mail.walk() if part.get_content_maintype() == "image"]  # inline, from registration
    assert logo.get_content_type() == "image/png" and logo.get_payload(decode=True) == _logo()
    content_id = logo["Content-ID"].strip("<>")
    assert f'<img src="cid:{content_id}" alt="Société Française de Radiologie" width="90" height="30"' in html


def test_certificates_serves_the_societys_colour_and_logo_read_from_registration(suite: tuple[Stack, SmtpSink]) -> None:
    stack, _ = suite
    base, auth, _event = _branded_event(stack, "branded-pages")
    organisation_id = requests.get(f"{base}/api/v1/organisation", headers=auth).json()["id"]
    certificates = url(stack, "certificates")
    css = requests.get(f"{certificates}/brand/{organisation_id}/style.css")
    assert css.status_code == 200 and "background: #7a1f3d; color: #ffffff" in css.text
    logo = requests.get(f"{certificates}/brand/{organisation_id}/logo")
    assert logo.status_code == 200 and logo.headers["Content-Type"] == "image/png" and logo.content == _logo()
    assert requests.get(f"{certificates}/brand/999999/style.css").status_code == 404


def test_every_service_has_a_favicon_and_unknown_verify_paths_get_the_suites_page(
    suite: tuple[Stack, SmtpSink],
) -> None:
    stack, _ = suite
    for service in ("registration", "notifications", "certificates"):
        icon = requests.get(f"{url(stack, service)}/favicon.ico")
        assert icon.status_code == 200 and icon.content[:4] == b"\x00\x00\x01\x00", service  # an ICO file
    for path in ("/verify/", "/verify/NO-SUCH/CODE", "/verify/XXXX-YYYY"):
        page = requests.get(url(stack, "certificates") + path, headers={"Accept": "text/html"})
        assert page.status_code == 404, path
        assert re.search(r'<link rel="stylesheet" href="/static/style\.css', page.text), path
        assert "No certificate has the code" in page.text and 'rel="icon"' in page.text, path
