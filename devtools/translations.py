"""The suite's gettext catalogs: extract the messages of each package and update its nl, de and fr ``.po``.

    python -m devtools.translations update [PACKAGE...]  # (make translations) add new messages, drop gone ones
    python -m devtools.translations check               # exit 1 when a catalog lags behind its sources
    python -m devtools.translations extract PACKAGE     # the template (.pot) on stdout, for translation tools

One catalog per package (``<package>/translations/<lang>/LC_MESSAGES/messages.po``), PACKAGE one of
suite_common, registration, notifications, certificates: the shared templates and code, and each service's.
What is extracted is ``babel.cfg``. New messages arrive untranslated, never as fuzzy guesses (no fuzzy matching): a translator
sees exactly what is missing, and tests/common/test_catalogs.py fails until it is translated. The ``.po``
files are compiled in memory by the services (suite_common.i18n), so there is no compile step.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGES: dict[str, Path] = {
    "suite_common": ROOT / "services/common/suite_common",
    "registration": ROOT / "services/registration/registration",
    "notifications": ROOT / "services/notifications/notifications",
    "certificates": ROOT / "services/certificates/certificates",
}
TRANSLATED = ("nl", "de", "fr")
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
PROJECT = "medical-imaging events suite"
HEADER = "# {language} messages of the medical-imaging events suite; see devtools/translations.py.\n#"


def extract(package: Path) -> Catalog:
    """The messages of ``package``'s templates and code, as a template catalog (the ``.pot``)."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    template = Catalog(project=PROJECT, charset="utf-8", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            package, method_map, options_map, keywords=KEYWORDS, comment_tags=("Translators:",),
            strip_comment_tags=True):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def po_path(package: Path, language: str) -> Path:
    return package / "translations" / language / "LC_MESSAGES" / "messages.po"


def read_catalog(path: Path, language: str) -> Catalog:
    with path.open("rb") as po_file:
        return read_po(po_file, locale=language)


def _write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as po_file:
        write_po(po_file, catalog, width=120, omit_header=False, ignore_obsolete=True, include_previous=False)


def update(package: Path) -> list[str]:
    """Bring each language's ``.po`` in step with the sources; returns what it wrote."""
    template = extract(package)
    written = []
    for language in TRANSLATED:
        path = po_path(package, language)
        if path.is_file():
            catalog = read_catalog(path, language)
        else:
            catalog = Catalog(locale=language, project=PROJECT, charset="utf-8", fuzzy=False,
                              header_comment=HEADER.format(language=language))
        # The first extraction's date stays: a run that finds nothing new leaves the files as they were.
        template.creation_date = catalog.creation_date
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.fuzzy = False
        _write(catalog, path)
        written.append(str(path.relative_to(ROOT)))
    return written


def lagging(package: Path) -> list[str]:
    """What is out of step between ``package``'s sources and its catalogs, in words (empty: in step)."""
    wanted = {message.id for message in extract(package) if message.id}
    problems = []
    for language in TRANSLATED:
        path = po_path(package, language)
        if not path.is_file():
            problems.append(f"{path.relative_to(ROOT)} is missing")
            continue
        have = {message.id for message in read_catalog(path, language) if message.id}
        for missing in sorted(map(str, wanted - have)):
            problems.append(f"{path.relative_to(ROOT)} lacks {missing!r}")
        for gone in sorted(map(str, have - wanted)):
            problems.append(f"{path.relative_to(ROOT)} has {gone!r}, no longer in the sources")
    return problems


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "update"
    names = argv[2:] or list(PACKAGES)
    if unknown := [name for name in names if name not in PACKAGES]:
        print(f"unknown package(s) {', '.join(unknown)}; known: {', '.join(PACKAGES)}")
        return 2
    if command == "extract" and len(names) == 1:
        write_po(sys.stdout.buffer, extract(PACKAGES[names[0]]), width=120)
        return 0
    if command == "update":
        for name in names:
            for path in update(PACKAGES[name]):
                print(f"updated {path}")
        return 0
    if command == "check":
        problems = [problem for package in PACKAGES.values() for problem in lagging(package)]
        print("\n".join(problems) if problems else "catalogs are in step with the sources")
        return 1 if problems else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
