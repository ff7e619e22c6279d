"""Every string shown to users has a Norwegian translation (bokmål is the default language)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}


def _extracted() -> set[str | tuple[str, ...]]:
    found: set[str | tuple[str, ...]] = set()
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
            elif isinstance(message, tuple) and len(message) == 2:  # ngettext: (singular, plural)
                found.add(tuple(message))
    return found


def _key(value: object) -> str | tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, (tuple, list)) else str(value)


def _translated(text: str | tuple[str, ...] | None) -> bool:
    """A text, or for a plural message every plural form, is filled in."""
    return bool(text) and all(text) if isinstance(text, tuple) else bool(text)


def test_every_message_has_a_norwegian_translation() -> None:
    with (ROOT / "web/locale/nb/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = {_key(m.id): _key(m.string) for m in read_po(fh) if m.id}
    extracted = _extracted()
    assert extracted, "extraction found nothing"
    assert any(isinstance(m, tuple) for m in extracted), "extraction found no plural message"
    missing = sorted((m for m in extracted if not _translated(catalog.get(m))), key=str)
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
