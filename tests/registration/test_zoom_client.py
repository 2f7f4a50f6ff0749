"""The Zoom client against the Zoom stand-in (devtools/zoom_standin.py, in-process): the token is
fetched once and reused until it nears its expiry, Zoom's 429 carries Retry-After to the outbox, 5xx
is retryable and 4xx is not, and a retried add never makes a second registrant."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from devtools.zoom_standin import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    ZoomStandin,
)
from registration.services.zoom.client import (
    TOKEN_MARGIN,
    MemoryTokenStore,
    ZoomClient,
    ZoomCredentials,
    ZoomRefused,
    ZoomRetryable,
    retry_after_seconds,
)
from suite_common.db import utcnow
from suite_common.outbox import retry_after
from suite_common.secretbox import SecretBox, SecretUnreadable, new_key
from suite_common.settings import ZoomSettings

NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)


class CountingSession(requests.Session):
    """Counts the token requests the client makes."""

    def __init__(self) -> None:
        super().__init__()
        self.token_requests = 0

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if url.endswith("/oauth/token"):
            self.token_requests += 1
        return super().request(method, url, *args, **kwargs)


@pytest.fixture(scope="module")
def standin() -> Iterator[ZoomStandin]:
    with ZoomStandin() as running:
        yield running


def client_of(standin: ZoomStandin, store: MemoryTokenStore | None = None,
              secret: str = DEFAULT_CLIENT_SECRET) -> tuple[ZoomClient, CountingSession]:
    http = CountingSession()
    settings = ZoomSettings(api_base=standin.api_base, oauth_base=standin.url, timeout=5)
    credentials = ZoomCredentials(DEFAULT_ACCOUNT_ID, DEFAULT_CLIENT_ID, secret)
    return ZoomClient(credentials, store or MemoryTokenStore(), settings, session=http), http


def new_webinar(client: ZoomClient) -> str:
    return client.create_webinar("Cardiac MRI update", NOW, 90, "Europe/Amsterdam")


def fault(standin: ZoomStandin, path_prefix: str, status: int, times: int = 1, retry_after: int | None = None) -> None:
    body: dict[str, Any] = {"path_prefix": path_prefix, "status": status, "times": times}
    if retry_after is not None:
        body["retry_after"] = retry_after
    requests.post(f"{standin.url}/_standin/faults", json=body, timeout=5).raise_for_status()


def test_the_token_is_fetched_once_and_reused_until_it_nears_expiry(standin: ZoomStandin) -> None:
    store = MemoryTokenStore()
    client, http = client_of(standin, store)
    webinar = new_webinar(client)
    client.add_registrant(webinar, "ada@example.org", "Ada", "Lovelace")
    client.add_registrant(webinar, "grace@example.org", "Grace", "Hopper")
    assert http.token_requests == 1

    token, expires_at = store.load() or ("", NOW)
    assert expires_at > utcnow() + dt.timedelta(minutes=50)
    # Within the margin before expiry the token counts as spent: a new one is fetched.
    store.save(token, utcnow() + TOKEN_MARGIN - dt.timedelta(seconds=1))
    client.add_registrant(webinar, "alan@example.org", "Alan", "Turing")
    assert http.token_requests == 2


def test_a_token_refused_by_zoom_is_replaced_once(standin: ZoomStandin) -> None:
    store = MemoryTokenStore()
    store.save("revoked-token", utcnow() + dt.timedelta(hours=1))
    client, http = client_of(standin, store)
    assert new_webinar(client).isdigit()
    assert http.token_requests == 1 and store.load() is not None and store.load()[0] != "revoked-token"


def test_adding_the_same_email_again_answers_the_same_registrant(standin: ZoomStandin) -> None:
    client, _http = client_of(standin)
    webinar = new_webinar(client)
    first = client.add_registrant(webinar, "lise@example.org", "Lise", "Meitner")
    again = client.add_registrant(webinar, "lise@example.org", "Lise", "Meitner")
    assert again == first and first.join_url.startswith("http")


def test_429_is_retryable_with_zoom_s_retry_after_and_the_outbox_honours_it(standin: ZoomStandin) -> None:
    client, _http = client_of(standin)
    webinar = new_webinar(client)
    fault(standin, f"/v2/webinars/{webinar}/registrants", 429, retry_after=42)
    with pytest.raises(ZoomRetryable) as limited:
        client.add_registrant(webinar, "emmy@example.org", "Emmy", "Noether")
    assert limited.value.http_status == 429 and limited.value.retry_after == 42

    class Answer:
        status_code = 503
        headers = {"Retry-After": "42"}

    assert retry_after(Answer()) == dt.timedelta(seconds=42)


def test_5xx_is_retryable_and_other_4xx_are_not(standin: ZoomStandin) -> None:
    client, _http = client_of(standin)
    webinar = new_webinar(client)
    fault(standin, f"/v2/webinars/{webinar}/registrants", 500)
    with pytest.raises(ZoomRetryable) as failed:
        client.add_registrant(webinar, "marie@example.org", "Marie", "Curie")
    assert failed.value.http_status == 500 and failed.value.retry_after is None
    with pytest.raises(ZoomRefused) as refused:
        client.add_registrant("99999999999", "marie@example.org", "Marie", "Curie")
    assert refused.value.http_status == 404


def test_wrong_credentials_are_refused_for_good_without_the_secret_in_the_message(standin: ZoomStandin) -> None:
    client, _http = client_of(standin, secret="not-the-secret-at-all")
    with pytest.raises(ZoomRefused) as refused:
        new_webinar(client)
    assert "not-the-secret-at-all" not in str(refused.value)
    assert "not-the-secret-at-all" not in repr(client.credentials)


def test_an_unreachable_zoom_is_retryable() -> None:
    settings = ZoomSettings(api_base="http://127.0.0.1:9/v2", oauth_base="http://127.0.0.1:9", timeout=2)
    client = ZoomClient(ZoomCredentials("a", "b", "c"), MemoryTokenStore(), settings)
    with pytest.raises(ZoomRetryable):
        client.add_registrant("123456789", "x@example.org", "X", "Y")


@pytest.mark.parametrize(("header", "seconds"), [
    ("30", 30.0), ("Sun, 01 Mar 2027 09:01:00 GMT", 60.0), ("2027-03-01T10:00:00Z", 3600.0),
    ("", None), ("soon", None), ("999999999", 86400.0)])
def test_retry_after_reads_seconds_http_dates_and_iso_times(header: str, seconds: float | None) -> None:
    assert retry_after_seconds(header, NOW) == seconds


def test_secrets_round_trip_encrypted_and_other_keys_cannot_read_them() -> None:
    old, new = new_key(), new_key()
    sealed = SecretBox((old,)).encrypt("client-secret-value")
    assert "client-secret-value" not in sealed
    assert SecretBox((new, old)).decrypt(sealed) == "client-secret-value"  # rotation: the old key still reads
    with pytest.raises(SecretUnreadable):
        SecretBox((new,)).decrypt(sealed)
