"""Extract translatable strings and merge them into the nb and en catalogues.

Run after adding strings: `.venv/bin/python scripts/update_catalogues.py`, then translate the
empty `msgstr` entries in web/locale/nb/LC_MESSAGES/messages.po. English ids are their own
translation, so en.po stays empty of msgstr on purpose.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "web" / "locale"


def extract() -> Catalog:
    pot = ROOT / "var" / "messages.pot"
    pot.parent.mkdir(exist_ok=True)
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"),
                    "-k", "N_", "-k", "_", "-k", "gettext", "--no-location", "--sort-output",
                    "-o", str(pot), str(ROOT)], check=True)
    with pot.open("rb") as fh:
        return read_po(fh)


def _key(value: object) -> str | tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, (tuple, list)) else str(value)


def merge(template: Catalog, lang: str, locale: str) -> list[str]:
    path = LOCALE / lang / "LC_MESSAGES" / "messages.po"
    # a plural message's id and text are tuples (singular, plural) and (one text per plural form)
    old: dict[str | tuple[str, ...], str | tuple[str, ...]] = {}
    if path.exists():
        with path.open("rb") as fh:
            old = {_key(m.id): _key(m.string) for m in read_po(fh) if m.id}
    catalog = Catalog(locale=locale, project="Samkonsult", charset="utf-8", fuzzy=False)
    missing = []
    for message in template:
        if not message.id:
            continue
        text = old.get(_key(message.id), "")
        if isinstance(message.id, (tuple, list)) and not isinstance(text, tuple):
            text = ("",) * catalog.num_plurals
        if lang != "en" and not all(text if isinstance(text, tuple) else (text,)):
            missing.append(str(message.id))
        catalog.add(message.id, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, sort_output=True, omit_header=False, width=100)
    return missing


def main() -> int:
    template = extract()
    merge(template, "en", "en_GB")
    missing = merge(template, "nb", "nb_NO")
    for text in missing:
        print(f"untranslated (nb): {text}")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
