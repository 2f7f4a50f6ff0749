"""The certificate-ready mail counts credits with each language's plural rule (CLDR): one credit, two
credits, and French's "1,5 crédit" (French's singular covers 0 to under 2), in the subject's language too."""
from __future__ import annotations

import pytest

from notifications.services.rendering import file_wording, render, sample_context

EXPECTED = {  # language: {credits: the phrase the mail says}
    "en": {"1": "1 EACCME credit.", "2": "2 EACCME credits.", "1.5": "1.5 EACCME credits."},
    "nl": {"1": "1 EACCME-punt.", "2": "2 EACCME-punten.", "1.5": "1,5 EACCME-punten."},
    "de": {"1": "1 EACCME-Punkt.", "2": "2 EACCME-Punkte.", "1.5": "1,5 EACCME-Punkte."},
    "fr": {"1": "1 crédit EACCME.", "2": "2 crédits EACCME.", "1.5": "1,5 crédit EACCME."},
}
READY = {"en": "is ready", "nl": "is klaar", "de": "liegt vor", "fr": "est prête"}


def _mail_text(language: str, credits: str) -> str:
    context = sample_context("certificate_ready")
    context["certificate"] = {**context["certificate"], "credits": credits, "body": "EACCME"}
    rendered = render(file_wording("certificate_ready"), context, "Society", language)
    return " ".join(rendered.text.split()) + " " + " ".join(rendered.html.split())


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_one_credit_is_singular_and_two_are_plural_in_every_language(language: str) -> None:
    for credits, phrase in EXPECTED[language].items():
        text = _mail_text(language, credits)
        assert phrase in text, (language, credits, text)
        assert READY[language] in text
