"""The grammar of Oryx's evidence labels: "(53, 54 and 55, captured and later destroyed)".

A label is a list of item numbers, then optional free text about the item ("with ZU-23 AA gun",
"BG-32 'Donbass'", "unknown ID"), then one or more states joined by "and", "and later", "but
later" or commas, each with optional detail ("on the ground", "by Bayraktar TB2"). States are
matched tolerantly ("destoyed", "captued", "abanonded"); "sunk" and "scuttled" are destroyed
with that word kept as detail, as Oryx counts them, and so is "damaged beyond economical repair"
(Oryx numbers and counts those airframes with the destroyed ones).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from attrition.losses.choices import Fate

# The leading item numbers: "6", "6 and 7", "2, 3, 4 and 5", "71 and 72" (a number is never
# glued to letters or a dash: "2S1" and "BG-32" are text).
NUMBERS = re.compile(r"^\s*(\d+(?:\s*(?:,|\band\b|&)\s*\d+(?![\w-]))*)(?![\w-])\s*,?\s*")
NUMBER = re.compile(r"\d+")
WORD = re.compile(r"[A-Za-z]+")
# Words that join states: "damaged and captured", "captured and later destroyed".
CONNECTORS = frozenset({"and", "later", "then", "but", "subsequently"})

FATE_WORDS: dict[str, Fate] = {
    "destroyed": Fate.DESTROYED,
    "damaged": Fate.DAMAGED,
    "abandoned": Fate.ABANDONED,
    "captured": Fate.CAPTURED,
}
# States Oryx names that are a fate with the word itself as detail.
DETAIL_WORDS: dict[str, Fate] = {"sunk": Fate.DESTROYED, "scuttled": Fate.DESTROYED}
STATE_WORDS = {**FATE_WORDS, **DETAIL_WORDS}
MAX_DETAIL = 200
# "damaged beyond (economical) repair": written off, so counted as destroyed.
BEYOND_REPAIR = re.compile(r"^beyond\b.*\brepair\b", re.I)


@dataclass(frozen=True)
class State:
    """One state a label gives an item, e.g. destroyed, with detail such as "on the ground"."""

    fate: Fate
    detail: str = ""


@dataclass(frozen=True)
class Label:
    """A parsed label: the item numbers, free text about the item, and its states in order."""

    numbers: tuple[int, ...]
    states: tuple[State, ...]
    note: str = ""
    corrections: tuple[str, ...] = field(default=())

    @property
    def fate(self) -> Fate:
        """Return the state the items are counted under: the last one."""
        return self.states[-1].fate


class LabelError(ValueError):
    """A label that names no item number or no state."""


def _distance(a: str, b: str, limit: int) -> int:
    """Return the edit distance of a and b (insertions, deletions, substitutions, swaps)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def state_word(word: str, *, tolerant: bool) -> str | None:
    """Return the state word `word` spells ("destoyed" -> "destroyed"), or None."""
    lowered = word.lower()
    if lowered in STATE_WORDS:
        return lowered
    if not tolerant or len(lowered) < 5:
        return None
    best = [state for state in FATE_WORDS if _distance(lowered, state, 2) <= 2 and state != lowered]
    return best[0] if len(best) == 1 else None


def _clean(text: str) -> str:
    text = " ".join(text.replace("\xa0", " ").split())
    text = text.strip()
    if text.startswith("("):
        text = text[1:]
    if text.endswith(")"):
        text = text[:-1]
    return text.strip()


def _tidy(parts: list[str], *, lead: bool = True) -> str:
    """Join detail words, dropping the connectors and commas at the end (and at the start)."""
    text = " ".join(parts).strip(" ,;")
    words = text.split()
    while lead and words and words[0].lower().strip(",") in CONNECTORS:
        words.pop(0)
    while words and words[-1].lower().strip(",") in CONNECTORS:
        words.pop()
    return " ".join(words).strip(" ,;")[:MAX_DETAIL]


def label_parse(raw: str) -> Label:
    """Return the item numbers, note and states of one label, or raise LabelError."""
    text = _clean(raw)
    match = NUMBERS.match(text)
    if match is None:
        raise LabelError(f"no item number in {raw.strip()!r}")
    numbers = tuple(int(n) for n in NUMBER.findall(match.group(1)))
    rest = text[match.end() :]
    pieces = rest.replace(",", " , ").split()
    note: list[str] = []
    states: list[tuple[str, list[str]]] = []
    corrections: list[str] = []
    # A misspelt state is trusted at the start and after a joining word, never inside detail:
    # "scuttled to prevent capture" is one state with detail.
    tolerant = True
    for piece in pieces:
        bare = piece.strip("'\".;:")
        word = state_word(bare, tolerant=tolerant) if WORD.fullmatch(bare) else None
        if word is not None:
            if word != bare.lower():
                corrections.append(f"{bare} -> {word}")
            states.append((word, []))
            tolerant = False
            continue
        lowered = piece.lower()
        tolerant = lowered in CONNECTORS or piece == ","
        if states:
            states[-1][1].append(piece)
        else:
            note.append(piece)
    if not states:
        raise LabelError(f"no state (destroyed, damaged, abandoned, captured) in {raw.strip()!r}")
    parsed = []
    for word, detail in states:
        # "sunk but later raised": the word is the detail, and what follows it stays whole.
        text = _tidy([word, *detail], lead=False) if word in DETAIL_WORDS else _tidy(detail)
        fate = STATE_WORDS[word]
        if fate == Fate.DAMAGED and BEYOND_REPAIR.match(text):
            fate, text = Fate.DESTROYED, f"damaged {text}"
        parsed.append(State(fate=fate, detail=text))
    return Label(
        numbers=numbers,
        states=tuple(parsed),
        note=_tidy(note),
        corrections=tuple(corrections),
    )
