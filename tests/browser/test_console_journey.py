"""A newcomer runs a webinar end to end in the organiser console, in Debian's Chromium, with no curl.

Sign in with the link the SMTP sink caught; create a webinar with one session worth 2 credits and a
free rate; three people sign up on the public form; the roster shows them; upload the Zoom report;
set the credit rules; issue and watch the progress bar reach done; the certificate list shows the
credits and why; revoke one with a reason. Every console page on the way passes axe-core, at the
default width and at 375 px without sideways scrolling.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess
import sys
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from devtools.smtp_sink import SmtpSink
from devtools.stack import Stack
from tests.browser.axe import assert_accessible_at_all_widths
from tests.support.stack import running_stack, url

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

TZ = ZoneInfo("Europe/Vienna")
OWNER = "secretary@society.example"
SLUG = "pcct-webinar"
PEOPLE = (  # given, family, email, minutes attended of the 120-minute session
    ("Zoë", "Łukasiewicz", "zoe@szpital.example", 120),
    ("Sanne", "de Vries", "sanne@umc.example", 120),
    ("Kwame", "Mensah", "kwame@hospital.example", 20),
)
ZOOM_TIME = "%m/%d/%Y %I:%M:%S %p"
LINK = re.compile(r"(http://\S+/console/sign-in/[A-Za-z0-9_-]+)")


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpSink]:
    with SmtpSink(tmp_path_factory.mktemp("mail")) as running:
        yield running


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, sink: SmtpSink) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack"), SMTP_PORT=str(sink.port)) as running:
        subprocess.run([sys.executable, "-m", "flask", "--app", "registration", "organisers", "add", "--org", "society",
                        "--email", OWNER, "--name", "Ada Secretary", "--role", "owner"],
                       env=running.env, check=True, capture_output=True, timeout=60)
        yield running


def zoom_report(start: dt.datetime) -> bytes:
    """The webinar's Zoom attendee report, as Zoom writes it (local times without an offset)."""
    local = start.astimezone(TZ).replace(tzinfo=None)
    out = io.StringIO()
    out.write("Attendee Report\r\nReport Generated:,\"01/01/2027 09:00 AM\"\r\n")
    out.write("Topic,Webinar ID,Actual Start Time,Actual Duration (minutes)\r\n")
    out.write(f"\"Photon-counting CT\",812 3456 7890,\"{local.strftime(ZOOM_TIME)}\",120\r\n")
    out.write("Attendee Details\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Attended", "User Name (Original Name)", "First Name", "Last Name", "Email", "Registration Time",
                     "Approval Status", "Join Time", "Leave Time", "Time in Session (minutes)", "Is Guest",
                     "Country/Region Name"])
    for given, family, email, minutes in PEOPLE:
        writer.writerow(["Yes", f"{given} {family}", "", "", email, local.strftime(ZOOM_TIME), "approved",
                         local.strftime(ZOOM_TIME), (local + dt.timedelta(minutes=minutes)).strftime(ZOOM_TIME),
                         str(minutes), "No", "Netherlands"])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def checked(page: Page, what: str) -> None:
    assert_accessible_at_all_widths(page, what)


def submit(page: Page, button: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


def sign_in(page: Page, base: str, sink: SmtpSink) -> None:
    page.goto(f"{base}/console/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the organiser console")
    checked(page, "console sign-in")
    page.get_by_label("Email").fill(OWNER)
    submit(page, "Send me a sign-in link")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your mail")
    checked(page, "console check your mail")
    mail = sink.wait_for(1, timeout=30)[-1]
    assert mail["To"] == OWNER
    link = LINK.search(mail.get_body(("plain",)).get_content())
    assert link, "the sign-in mail carries no link"
    page.goto(link.group(1))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in as Ada Secretary")
    checked(page, "console sign-in confirmation")
    submit(page, "Sign in")
    expect(page).to_have_url(f"{base}/console/events")
    checked(page, "console events, none yet")


def create_webinar(page: Page, start: dt.datetime) -> None:
    page.get_by_role("link", name="New event").click()
    checked(page, "console new event")
    page.get_by_label("Title").fill("Photon-counting CT: first clinical results")
    page.get_by_label("Address (slug)").fill(SLUG)
    page.get_by_label("Kind").select_option("webinar")
    page.get_by_label("Time zone").select_option("Europe/Vienna")
    page.get_by_label("Starts").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Ends").fill((start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Currency").fill("EUR")
    page.get_by_label("Join link").fill("https://zoom.us/j/81234567890")
    submit(page, "Create the event")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Photon-counting CT")
    checked(page, "console event overview")

    page.get_by_role("link", name="Add a session").click()
    page.get_by_label("Code").fill("LIVE")
    page.get_by_label("Title").fill("Live webinar")
    page.get_by_label("Starts").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Ends").fill((start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Credits (CME hours)").fill("2")
    checked(page, "console new session")
    submit(page, "Add the session")

    page.get_by_role("link", name="Add a rate").click()
    page.get_by_label("Code").fill("free")
    page.get_by_label("Name").fill("Free")
    page.get_by_label("Amount").fill("0")
    page.get_by_label("Category").select_option("other")
    checked(page, "console new rate")
    submit(page, "Add the rate")
    expect(page.get_by_role("cell", name="Live webinar")).to_be_visible()


def sign_up(new_page, base: str) -> None:  # type: ignore[no-untyped-def]
    for given, family, email, _ in PEOPLE:
        attendee = new_page()
        attendee.goto(f"{base}/events/{SLUG}/register")
        attendee.get_by_label("Given name").fill(given)
        attendee.get_by_label("Family name").fill(family)
        attendee.get_by_label("Email").fill(email)
        attendee.locator("#consent").check()
        with attendee.expect_navigation():
            attendee.get_by_role("button", name="Continue", exact=True).click()
        with attendee.expect_navigation():
            attendee.get_by_role("button", name="Confirm", exact=True).click()
        expect(attendee.get_by_text("Confirmed").first).to_be_visible()


def test_a_webinar_from_sign_in_to_revoked_certificate(stack: Stack, sink: SmtpSink, new_page) -> None:  # type: ignore[no-untyped-def]
    base = url(stack, "registration")
    start = (dt.datetime.now(TZ) + dt.timedelta(days=7)).replace(hour=17, minute=0, second=0, microsecond=0)
    page = new_page()
    sign_in(page, base, sink)
    create_webinar(page, start)
    sign_up(new_page, base)

    page.goto(f"{base}/console/events/{SLUG}/registrations")
    for _, _, email, _ in PEOPLE:
        expect(page.get_by_role("cell", name=email)).to_be_visible()
    checked(page, "console roster")

    page.get_by_role("link", name="Attendance", exact=True).click()
    page.get_by_label("Report file (CSV)").set_input_files(
        {"name": "zoom.csv", "mimeType": "text/csv", "buffer": zoom_report(start)})
    submit(page, "Upload the report")
    expect(page.get_by_text("3 rows read")).to_be_visible()
    checked(page, "console attendance")

    page.get_by_role("link", name="Accreditation", exact=True).click()
    page.get_by_label("Accrediting body").fill("EACCME®")
    page.get_by_label("Accreditation statement").fill(
        "The webinar is accredited by the EACCME® with 2 European CME credits (ECMEC®s).")
    page.get_by_label("Credit step").select_option("0.5")
    page.get_by_label("Least share of a session").fill("0.5")
    page.get_by_label("Signatory", exact=True).fill("Prof. Dr. Eva de Vries")
    checked(page, "console accreditation")
    submit(page, "Save the credit rules")
    expect(page.get_by_role("status")).to_contain_text("saved")

    page.get_by_role("link", name="Certificates", exact=True).click()
    checked(page, "console certificates before issuing")
    submit(page, "Issue certificates to everyone eligible")
    progress = page.locator("progress")
    expect(progress).to_be_visible()
    checked(page, "console job")
    expect(page.locator('[data-job="status"]')).to_have_text("Done", timeout=60_000)
    expect(page.get_by_text("Done: every eligible person has a certificate")).to_be_visible()
    assert progress.get_attribute("value") == progress.get_attribute("max") == "3"

    page.get_by_role("link", name="Certificates", exact=True).click()
    for given, family, _, _ in PEOPLE[:2]:
        expect(page.get_by_role("heading", name=f"{given} {family}")).to_be_visible()
    section = page.locator("section", has=page.get_by_role("heading", name="Zoë Łukasiewicz"))
    expect(section).to_contain_text("2 credits")
    kwame = page.locator("section", has=page.get_by_role("heading", name="Kwame Mensah"))
    expect(kwame).to_contain_text("no certificate")
    checked(page, "console certificates issued")

    code = section.get_by_role("button", name=re.compile(r"^Revoke ")).inner_text().removeprefix("Revoke ")
    section.get_by_label(f"Reason for revoking {code}").fill("Attendance was shared with a colleague")
    with page.expect_navigation():
        section.get_by_role("button", name=f"Revoke {code}").click()
    section = page.locator("section", has=page.get_by_role("heading", name="Zoë Łukasiewicz"))
    expect(section).to_contain_text("Revoked")
    expect(section).to_contain_text("Attendance was shared with a colleague")
