"""Translations from gettext catalogues (Babel ``.po`` files), chosen per request.

Message ids are English; ``nb`` (Norwegian bokmål) is the default language. The catalogues are
compiled in memory at start-up so a checkout needs no build step.
"""

from __future__ import annotations

import contextvars
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("nb", "en")
DEFAULT_LANGUAGE = "nb"
LOCALE_DIR = Path(__file__).parent / "locale"
BABEL_LOCALES = {"nb": "nb_NO", "en": "en_GB"}

_current: contextvars.ContextVar[str] = contextvars.ContextVar("samkonsult_language", default=DEFAULT_LANGUAGE)
_catalogues: dict[str, NullTranslations] = {}
# The fallback for a language without a catalogue, made once: as a default argument of ``dict.get`` it
# was built on every lookup, and a page with a list looks up hundreds of messages.
_UNTRANSLATED = NullTranslations()


def load_catalogues() -> None:
    """Read every ``messages.po`` once; missing catalogues fall back to the English ids."""
    for lang in LANGUAGES:
        path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
        if not path.exists():
            _catalogues[lang] = NullTranslations()
            continue
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=BABEL_LOCALES[lang])
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        _catalogues[lang] = Translations(buf)


def set_language(lang: str) -> None:
    _current.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def babel_locale() -> str:
    return BABEL_LOCALES[current_language()]


def gettext(message: str) -> str:
    if not _catalogues:
        load_catalogues()
    return _catalogues.get(current_language(), _UNTRANSLATED).gettext(message)


def gettext_in(lang: str, message: str) -> str:
    """``message`` in a given language, whatever the request's (to recognise text stored in another)."""
    if not _catalogues:
        load_catalogues()
    return _catalogues.get(lang, _UNTRANSLATED).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    if not _catalogues:
        load_catalogues()
    return _catalogues.get(current_language(), _UNTRANSLATED).ngettext(singular, plural, n)


def pick_language(*candidates: str | None) -> str:
    """The first supported language among the candidates (session, cookie, Accept-Language)."""
    for cand in candidates:
        if cand:
            short = cand.split("-")[0].split("_")[0].lower()
            if short in {"no", "nn"}:
                short = "nb"
            if short in LANGUAGES:
                return short
    return DEFAULT_LANGUAGE
