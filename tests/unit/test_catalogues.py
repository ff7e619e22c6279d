"""Every string shown to users has a Norwegian translation (bokmål is the default language)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "N_": None, "gettext": None}


def _extracted() -> set[str]:
    found: set[str] = set()
    for sub, method_map in (
        ("server", [("**.py", "python")]),
        ("web", [("**.py", "python"), ("templates/**.html", "jinja2")]),
    ):
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT / sub), method_map, options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
            keywords=KEYWORDS,
        ):
            if isinstance(message, str):
                found.add(message)
    return found


def test_every_message_has_a_norwegian_translation() -> None:
    with (ROOT / "web/locale/nb/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = {str(m.id): str(m.string) for m in read_po(fh) if m.id}
    extracted = _extracted()
    assert extracted, "extraction found nothing"
    missing = sorted(m for m in extracted if not catalog.get(m))
    assert not missing, f"untranslated: {missing}"


def test_norwegian_is_served_by_default() -> None:
    from web import i18n

    i18n.load_catalogues()
    i18n.set_language("nb")
    assert i18n.gettext("Log in") == "Logg inn"
    i18n.set_language("en")
    assert i18n.gettext("Log in") == "Log in"
    assert i18n.pick_language(None, "no-NO") == "nb"
    assert i18n.pick_language("fr", None) == "nb"
