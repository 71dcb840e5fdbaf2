"""Fill the English catalog: our msgids are English, so an empty English msgstr takes its msgid.

Run by `make update-messages`; Dutch stays a human's job (the completeness test fails until it is done).
"""
from pathlib import Path

from babel.messages.pofile import read_po, write_po

def main() -> None:
    path = Path(__file__).parent / "en" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if not any(message.string):
                message.string = message.id
        elif not message.string:
            message.string = message.id
        message.flags.discard("fuzzy")
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False)


if __name__ == "__main__":
    main()
