"""Accessibility checks for the browser tests: axe-core run in the page Playwright shows.

axe-core comes from the ``axe-playwright-python`` package (pinned in requirements-test.txt), which
ships axe-core's ``axe.min.js``. It is injected with ``page.evaluate``, which runs through the
DevTools protocol and is not subject to the pages' Content-Security-Policy (script-src 'self', no
inline scripts), so the pages are checked exactly as they are served.

The project's rule is "pages pass axe-core without violations": every violation fails, whatever
its impact.
"""
from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe

# WCAG 2.0 and 2.1, levels A and AA, plus Deque's best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
OPTIONS = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
NARROW = {"width": 375, "height": 800}  # a small phone

_axe = Axe()


def axe_version(page: Any) -> str:
    """The version of axe-core injected into ``page`` (after a check has run there)."""
    return page.evaluate("() => window.axe && window.axe.version")


def violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now. axe-core (570 KB of script) is injected once per
    document: the check at the second width, or of a page changed in place, reuses it."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.evaluate(_axe.axe_script)
    return page.evaluate("options => axe.run(document, options).then(results => results.violations)", OPTIONS)


def _selector(target: Any) -> str:
    # A node in an iframe or a shadow root is a list of selectors, outermost first.
    return " >> ".join(_selector(part) for part in target) if isinstance(target, list) else str(target)


def describe(found: list[dict[str, Any]]) -> str:
    lines = []
    for violation in found:
        lines.append(f"- {violation['id']} ({violation.get('impact') or 'no impact given'}): {violation['help']} "
                     f"<{violation['helpUrl']}>")
        for node in violation["nodes"]:
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    {_selector(node['target'])}" + (f": {summary}" if summary else ""))
    return "\n".join(lines)


def assert_accessible(page: Any, what: str) -> None:
    """Runs axe-core (WCAG 2.0/2.1 A and AA, best practices) on ``page``; fails on any violation,
    naming each rule, its impact, what it asks for and the selectors of the offending elements."""
    found = violations(page)
    if found:
        raise AssertionError(f"{what} ({page.url}): {len(found)} accessibility violation(s) found by axe-core "
                             f"{axe_version(page)}:\n{describe(found)}")


def assert_fits_narrow_screen(page: Any, what: str, width: int = NARROW["width"]) -> None:
    """Shows ``page`` ``width`` CSS pixels wide (375: a small phone), asserts it needs no horizontal
    scrolling and passes axe-core at that width too; the previous viewport is restored afterwards."""
    previous = page.viewport_size
    page.set_viewport_size({"width": width, "height": NARROW["height"]})
    try:
        scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
        if scroll_width > width:
            wide = page.evaluate("""(width) => Array.from(document.querySelectorAll('body *'))
                .filter(e => e.getBoundingClientRect().right > width)
                .slice(0, 10).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                    + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
                    + ' (right edge ' + Math.round(e.getBoundingClientRect().right) + ')')""", width)
            raise AssertionError(f"{what} ({page.url}) scrolls sideways at {width} px: the document is "
                                 f"{scroll_width} px wide; elements past the edge: {', '.join(wide)}")
        assert_accessible(page, f"{what} at {width} px")
    finally:
        if previous:
            page.set_viewport_size(previous)


def assert_accessible_at_all_widths(page: Any, what: str) -> None:
    """The page at the browser's default width, then at 375 px."""
    assert_accessible(page, what)
    assert_fits_narrow_screen(page, what)
