"""Plain text that users and content files give: what has no place in a title or a note."""

import html
import re
import unicodedata

import nh3

# C0 controls but tab and newlines, DEL, zero-width spaces and joiners, direction marks,
# embeddings, overrides and isolates, the word joiner and invisible operators, and the BOM.
CONTROL_CHARACTERS = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def clean_text(value: str) -> str:
    """Drop control, zero-width and direction-override characters, and strip the ends."""
    return CONTROL_CHARACTERS.sub("", value or "").strip()


# Letters of other scripts that look like Latin ones, for names that must not pass for others.
_LOOK_ALIKES = str.maketrans(
    # Cyrillic
    "аеорсухіјѕԁһӏԛԝвкмнт"
    # Greek
    "αειοκνρτυχϲ"
    # Latin letters that read as others
    "ıɑɡ",
    "aeopcyxijsdhlqwbkmhtaeiokvptuxciag",
)


def skeleton(value: str) -> str:
    """The plain lower-case Latin a name looks like: full-width forms folded, accents and
    invisible characters dropped, Cyrillic and Greek look-alikes read as Latin letters."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", value).casefold())
    bare = "".join(char for char in folded if unicodedata.category(char) not in ("Mn", "Me", "Cf"))
    return bare.translate(_LOOK_ALIKES)


def plain_text(value: str) -> str:
    """Text with no markup left for a reader that takes it as HTML (an RSS title): tags are
    dropped, entities read, again until nothing changes; spaces collapse."""
    text = value or ""
    for _ in range(4):
        stripped = html.unescape(nh3.clean(text, tags=set()))
        if stripped == text:
            break
        text = stripped
    else:  # entities nested deeper than anyone types: drop the brackets that remain
        text = text.replace("<", "").replace(">", "")
    return " ".join(text.split())
