"""The demo walk-through of the README on what ``make run`` seeds: the demo congress carries ECMEC and
NVvTG points (a claim and presence codes), a second seeding keeps everything, and the demo
participant's printed page takes them through codes, the evaluation, a claim and the certificate."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from tests.e2e.test_claims_and_presence_journey import Page, _text
from tests.support.pdf import pdf_text
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e


def test_the_demo_participant_gets_a_certificate_with_a_claim(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        token = stack.seed_demo()
        assert stack.seed_demo() == token  # the second make run keeps the data
        auth = {"Authorization": f"Bearer {token}"}
        api = f"{url(stack, 'certificates')}/api/v1/events/demo-congress"
        rules = requests.get(f"{api}/accreditation", headers=auth, timeout=30).json()
        assert [(s["code"], s["claim_required"], s["presence_codes_required"]) for s in rules["credit_systems"]] == [
            ("ECMEC", False, 0), ("NVVTG", True, 2)]
        codes = requests.get(f"{api}/presence-codes", headers=auth, timeout=30).json()["items"]
        assert sorted(c["code"] for c in codes) == ["FHIR01", "FHIR02", "HEART1", "HEART2", "QUANT1", "QUANT2"]

        assert stack.demo_participant and "/events/demo-congress/participants/" in stack.demo_participant
        page = Page(stack.demo_participant)
        for code in ("heart1", "HEART2", "FHIR01"):
            assert page.code(code).status_code == 200
        # By hand: D1-AM and D1-PM attended (3 ECMEC each, step 0.5): 6. NVvTG (2 codes a session):
        # D1-AM 2 of 2 -> its 3; D1-PM 1 of 2 -> nothing: supports 3.
        answers = {"overall": "5", "unbiased": "yes", "s-D1-AM-quality": "4", "s-D1-PM-quality": "5"}
        assert page.post(answers).status_code == 200
        assert "supports at most 3 NVvTG punten" in _text(page.get())
        claimed = page.claim("3")
        assert claimed.status_code == 200, _text(claimed.text)
        assert "Your certificate is ready: 6 European CME credits (ECMEC®s), 3 NVvTG punten" in _text(claimed.text)
        download = re.search(r'<a href="([^"]+)">Download the PDF</a>', claimed.text).group(1)
        text = " ".join(pdf_text(requests.get(download, timeout=30).content).split())
        assert "3 NVvTG punten" in text and "Dana Demo" in text
