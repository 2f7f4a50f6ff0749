"""Open Badges 3.0: the certificate as an OpenBadgeCredential (a W3C Verifiable Credential).

The credential is not signed here (no ``proof``): its ``id`` is the public verification
URL, which answers whether it is valid or revoked.
"""
from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app

from ..models import Certificate

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]


def open_badge(certificate: Certificate) -> dict[str, Any]:
    base = current_app.extensions["suite_settings"].public_base_url
    printed = certificate.snapshot
    salt = certificate.code
    email_hash = hashlib.sha256((certificate.email + salt).encode()).hexdigest()
    return {
        "@context": CONTEXT,
        "id": f"{base}/verify/{certificate.code}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": f"{base}/organisations/{certificate.organisation_id}", "type": ["Profile"],
                   "name": printed["organisation_name"]},
        "validFrom": f"{printed['issued_on']}T00:00:00Z",
        "name": f"Certificate of attendance: {printed['event_title']}",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {"type": "IdentityObject", "identityType": "emailAddress", "hashed": True, "salt": salt,
                 "identityHash": f"sha256${email_hash}"},
                {"type": "IdentityObject", "identityType": "name", "hashed": False,
                 "identityHash": certificate.participant},
            ],
            "creditsEarned": float(certificate.credits),
            "achievement": {
                "id": f"{base}/organisations/{certificate.organisation_id}/events/{certificate.event_slug}",
                "type": ["Achievement"],
                "achievementType": "Course",
                "name": printed["event_title"],
                "description": printed["statement"],
                "criteria": {"narrative": f"Attended {printed['event_title']} ({printed['event_dates']}); "
                                          f"credits by {printed['credit_body']} for the time actually attended."},
                "creditsAvailable": float(sum(float(c) for _t, c in printed["sessions"])) or float(certificate.credits),
                "fieldOfStudy": "Medical imaging",
            },
        },
    }
