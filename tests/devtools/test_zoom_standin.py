"""The local Zoom stand-in, driven over HTTP as registration drives Zoom.

Webhooks go to a small werkzeug server in the test, whose signature check is written from Zoom's
documented rule (``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``), not from the stand-in's code.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from devtools.zoom_standin import ZoomStandin

SECRET_TOKEN = "test-webhook-secret-token"
START = "2027-03-01T18:00:00Z"


class Receiver:
    """A webhook endpoint recording every POST; answers URL validation as our webhook must."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/webhooks/zoom"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @Request.application
    def _app(self, request: Request) -> Response:
        body = request.get_data()
        self.deliveries.append((dict(request.headers), body))
        event = json.loads(body)
        if event["event"] == "endpoint.url_validation":
            plain = event["payload"]["plainToken"]
            encrypted = hmac.new(SECRET_TOKEN.encode(), plain.encode(), hashlib.sha256).hexdigest()
            return Response(json.dumps({"plainToken": plain, "encryptedToken": encrypted}),
                            mimetype="application/json")
        return Response(status=204)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as found:
        yield found


@pytest.fixture
def zoom(receiver: Receiver) -> Iterator[ZoomStandin]:
    with ZoomStandin(webhook_url=receiver.url, account_id="acc-1", client_id="cid", client_secret="csecret",
                     webhook_secret_token=SECRET_TOKEN) as standin:
        yield standin


def _token(zoom: ZoomStandin, client_secret: str = "csecret", account_id: str = "acc-1") -> requests.Response:
    return requests.post(f"{zoom.url}/oauth/token", params={"grant_type": "account_credentials",
                                                            "account_id": account_id},
                         auth=("cid", client_secret), timeout=10)


class Api:
    def __init__(self, zoom: ZoomStandin) -> None:
        self.zoom = zoom
        self.headers = {"Authorization": f"Bearer {_token(zoom).json()['access_token']}"}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.zoom.api_base}{path}", headers=self.headers, timeout=10, **kwargs)

    def webinar(self, duration: int = 90) -> int:
        created = self.call("POST", "/users/me/webinars", json={"topic": "Lesion tracking", "type": 5,
                                                                  "start_time": START, "duration": duration,
                                                                  "timezone": "Europe/Amsterdam"})
        assert created.status_code == 201, created.text
        return created.json()["id"]


@pytest.fixture
def api(zoom: ZoomStandin) -> Api:
    return Api(zoom)


def test_account_credentials_give_a_bearer_token_and_wrong_ones_are_refused(zoom: ZoomStandin) -> None:
    issued = _token(zoom)
    assert issued.status_code == 200
    body = issued.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600 and "report:read:admin" in body["scope"]
    assert _token(zoom, client_secret="wrong").status_code == 400
    assert _token(zoom, account_id="someone-else").status_code == 400
    no_grant = requests.post(f"{zoom.url}/oauth/token", params={"account_id": "acc-1"}, auth=("cid", "csecret"),
                             timeout=10)
    assert no_grant.status_code == 400


def test_every_api_call_needs_the_bearer_token(zoom: ZoomStandin, api: Api) -> None:
    webinar_id = api.webinar()
    anonymous = requests.get(f"{zoom.api_base}/webinars/{webinar_id}", timeout=10)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == 124
    forged = requests.get(f"{zoom.api_base}/webinars/{webinar_id}", headers={"Authorization": "Bearer nope"},
                          timeout=10)
    assert forged.status_code == 401
    assert api.call("GET", f"/webinars/{webinar_id}").json()["topic"] == "Lesion tracking"


def test_another_accounts_webinar_does_not_exist_for_this_token(zoom: ZoomStandin, api: Api) -> None:
    webinar_id = api.webinar()
    requests.post(f"{zoom.url}/_standin/accounts", json={"account_id": "acc-2", "client_id": "cid",
                                                          "client_secret": "other", "webhook_secret_token": "t"},
                  timeout=10).raise_for_status()
    other = requests.post(f"{zoom.url}/oauth/token", params={"grant_type": "account_credentials",
                                                             "account_id": "acc-2"}, auth=("cid", "other"),
                          timeout=10).json()["access_token"]
    seen = requests.get(f"{zoom.api_base}/webinars/{webinar_id}", headers={"Authorization": f"Bearer {other}"},
                        timeout=10)
    assert seen.status_code == 404 and seen.json()["code"] == 3001


def test_the_same_email_registered_twice_is_the_same_registrant_with_one_personal_link(api: Api) -> None:
    webinar_id = api.webinar()
    first = api.call("POST", f"/webinars/{webinar_id}/registrants",
                     json={"email": "ana@example.org", "first_name": "Ana", "last_name": "Núñez"})
    again = api.call("POST", f"/webinars/{webinar_id}/registrants",
                     json={"email": "ANA@example.org", "first_name": "Ana", "last_name": "Núñez"})
    other = api.call("POST", f"/webinars/{webinar_id}/registrants",
                     json={"email": "bo@example.org", "first_name": "Bo"})
    assert first.status_code == again.status_code == other.status_code == 201
    assert first.json()["id"] == webinar_id
    assert again.json()["registrant_id"] == first.json()["registrant_id"]
    assert again.json()["join_url"] == first.json()["join_url"]
    assert other.json()["join_url"] != first.json()["join_url"]
    listed = api.call("GET", f"/webinars/{webinar_id}/registrants").json()
    assert listed["total_records"] == 2
    assert requests.get(first.json()["join_url"], timeout=10).status_code == 200
    missing = api.call("POST", f"/webinars/{webinar_id}/registrants", json={"first_name": "No address"})
    assert missing.status_code == 400 and missing.json()["code"] == 300


def test_cancelling_a_registrant_takes_them_off_the_approved_list(api: Api) -> None:
    webinar_id = api.webinar()
    registrant = api.call("POST", f"/webinars/{webinar_id}/registrants",
                          json={"email": "ana@example.org", "first_name": "Ana"}).json()
    cancelled = api.call("PUT", f"/webinars/{webinar_id}/registrants/status",
                         json={"action": "cancel", "registrants": [{"id": registrant["registrant_id"]}]})
    assert cancelled.status_code == 204
    assert api.call("GET", f"/webinars/{webinar_id}/registrants").json()["total_records"] == 0
    wrong = api.call("PUT", f"/webinars/{webinar_id}/registrants/status",
                     json={"action": "explode", "registrants": [{"id": registrant["registrant_id"]}]})
    assert wrong.status_code == 400


def test_the_participants_report_pages_with_next_page_token_and_keeps_waiting_room_rows(
        zoom: ZoomStandin, api: Api) -> None:
    webinar_id = api.webinar()
    registrant = api.call("POST", f"/webinars/{webinar_id}/registrants",
                          json={"email": "ana@example.org", "first_name": "Ana"}).json()
    rows = [{"registrant_id": registrant["registrant_id"], "name": "Ana", "join_time": "2027-03-01T17:55:00Z",
             "leave_time": "2027-03-01T18:00:00Z", "status": "in_waiting_room"}]
    rows += [{"email": f"guest{n}@example.org", "name": f"Guest {n}", "join_time": "2027-03-01T18:00:00Z",
              "leave_time": "2027-03-01T19:00:00Z"} for n in range(4)]
    assert requests.post(f"{zoom.url}/_standin/webinars/{webinar_id}/attendance", json=rows,
                         timeout=10).status_code == 201
    assert api.call("GET", f"/report/webinars/{webinar_id}/participants").status_code == 404  # not ended yet
    requests.post(f"{zoom.url}/_standin/webinars/{webinar_id}/end", timeout=30).raise_for_status()
    seen: list[dict[str, Any]] = []
    token = ""
    pages = 0
    while True:
        page = api.call("GET", f"/report/webinars/{webinar_id}/participants",
                        params={"page_size": 2, "next_page_token": token}).json()
        pages += 1
        assert page["total_records"] == 5 and page["page_size"] == 2 and page["page_count"] == 3
        seen += page["participants"]
        token = page["next_page_token"]
        if not token:
            break
    assert pages == 3
    assert [row["name"] for row in seen] == ["Ana", "Guest 0", "Guest 1", "Guest 2", "Guest 3"]
    ana = seen[0]
    assert ana["registrant_id"] == registrant["registrant_id"] and ana["user_email"] == "ana@example.org"
    assert ana["status"] == "in_waiting_room" and ana["duration"] == 300
    assert {row["status"] for row in seen[1:]} == {"in_meeting"} and seen[1]["duration"] == 3600


def test_ending_a_webinar_sends_webinar_ended_signed_as_zoom_signs(zoom: ZoomStandin, api: Api,
                                                                   receiver: Receiver) -> None:
    webinar_id = api.webinar()
    sent = requests.post(f"{zoom.url}/_standin/webinars/{webinar_id}/end", timeout=30).json()
    assert sent["delivered"] is True
    headers, body = receiver.deliveries[-1]
    timestamp = headers["X-Zm-Request-Timestamp"]
    expected = "v0=" + hmac.new(SECRET_TOKEN.encode(), f"v0:{timestamp}:".encode() + body,
                                hashlib.sha256).hexdigest()
    assert headers["X-Zm-Signature"] == expected
    event = json.loads(body)
    assert event["event"] == "webinar.ended"
    assert event["payload"]["account_id"] == "acc-1"
    assert event["payload"]["object"]["id"] == str(webinar_id)
    assert event["payload"]["object"]["uuid"] and event["payload"]["object"]["start_time"] == START


def test_url_validation_is_sent_and_the_answer_checked(zoom: ZoomStandin, receiver: Receiver) -> None:
    answered = requests.post(f"{zoom.url}/_standin/url-validation", json={"account_id": "acc-1"}, timeout=30).json()
    assert answered["validated"] is True
    headers, body = receiver.deliveries[-1]
    assert json.loads(body)["event"] == "endpoint.url_validation" and headers["X-Zm-Signature"].startswith("v0=")


def test_faults_on_demand_answer_429_with_retry_after_then_pass(zoom: ZoomStandin, api: Api) -> None:
    webinar_id = api.webinar()
    requests.post(f"{zoom.url}/_standin/faults", json={"path_prefix": f"/v2/webinars/{webinar_id}/registrants",
                                                        "status": 429, "times": 1, "retry_after": 2},
                  timeout=10).raise_for_status()
    requests.post(f"{zoom.url}/_standin/faults", json={"path_prefix": f"/v2/webinars/{webinar_id}/registrants",
                                                        "status": 500, "times": 1}, timeout=10).raise_for_status()
    body = {"email": "ana@example.org", "first_name": "Ana"}
    limited = api.call("POST", f"/webinars/{webinar_id}/registrants", json=body)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert api.call("POST", f"/webinars/{webinar_id}/registrants", json=body).status_code == 500
    assert api.call("POST", f"/webinars/{webinar_id}/registrants", json=body).status_code == 201
    calls = requests.get(f"{zoom.url}/_standin/requests", timeout=10).json()["requests"]
    assert [c["status"] for c in calls if c["path"].endswith("/registrants")] == [429, 500, 201]


def test_the_state_file_keeps_webinars_and_registrants_across_a_restart(tmp_path: Any, receiver: Receiver) -> None:
    state = tmp_path / "zoom.json"
    credentials = {"account_id": "acc-1", "client_id": "cid", "client_secret": "csecret"}
    with ZoomStandin(webhook_url=receiver.url, state_file=state, **credentials) as first:
        api = Api(first)
        webinar_id = api.webinar()
        join_url = api.call("POST", f"/webinars/{webinar_id}/registrants",
                            json={"email": "ana@example.org", "first_name": "Ana"}).json()["join_url"]
    with ZoomStandin(webhook_url=receiver.url, state_file=state, **credentials) as second:
        listed = Api(second).call("GET", f"/webinars/{webinar_id}/registrants").json()
        assert [r["email"] for r in listed["registrants"]] == ["ana@example.org"]
        assert listed["registrants"][0]["join_url"].split("/w/")[1] == join_url.split("/w/")[1]
