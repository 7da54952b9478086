"""The label grammar: every case of descriptions.txt, misspellings, and generated labels."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attrition.importers.oryx_html.labels import LabelError, label_parse
from attrition.losses.choices import Fate
from tests.importers.conftest import ORYX_PAGES, needs_pages

D, DA, AB, CA = Fate.DESTROYED, Fate.DAMAGED, Fate.ABANDONED, Fate.CAPTURED

# Each line of descriptions.txt -> (numbers, [(fate, detail), ...], note).
DESCRIPTIONS = {
    "1, destroyed": ((1,), [(D, "")], ""),
    "1, captured": ((1,), [(CA, "")], ""),
    "5 and 6, destroyed": ((5, 6), [(D, "")], ""),
    "53, 54, 55, 56 and 57, captured and later destroyed": (
        (53, 54, 55, 56, 57),
        [(CA, ""), (D, "")],
        "",
    ),
    "1, damaged": ((1,), [(DA, "")], ""),
    "1, abandoned": ((1,), [(AB, "")], ""),
    "4, damaged and abandoned": ((4,), [(DA, ""), (AB, "")], ""),
    "1, damaged and captured": ((1,), [(DA, ""), (CA, "")], ""),
    "1, 2, 3 and 4, captured": ((1, 2, 3, 4), [(CA, "")], ""),
    "20, captured and later destroyed": ((20,), [(CA, ""), (D, "")], ""),
    "21 and 22, captured and later destroyed": ((21, 22), [(CA, ""), (D, "")], ""),
    "15, destroyed on the ground": ((15,), [(D, "on the ground")], ""),
    # Written off: Oryx numbers and counts these with the destroyed.
    "14, damaged beyond economical repair": (
        (14,),
        [(D, "damaged beyond economical repair")],
        "",
    ),
    "1, scuttled to prevent capture by Russia": (
        (1,),
        [(D, "scuttled to prevent capture by Russia")],
        "",
    ),
    "1, Lubny 'P178', sunk but later raised by Russia": (
        (1,),
        [(D, "sunk but later raised by Russia")],
        "Lubny 'P178'",
    ),
    "1, sunk": ((1,), [(D, "sunk")], ""),
    "1, BG-32 'Donbass' sunk": ((1,), [(D, "sunk")], "BG-32 'Donbass'"),
    "2, unknown ID, captured": ((2,), [(CA, "")], "unknown ID"),
    "1, 'DSHK-1 Stanislav', sunk": ((1,), [(D, "sunk")], "'DSHK-1 Stanislav'"),
    "4, 'BG 309', captured": ((4,), [(CA, "")], "'BG 309'"),
    "1, with 82mm 2B9 Vasilek mortar, destroyed": (
        (1,),
        [(D, "")],
        "with 82mm 2B9 Vasilek mortar",
    ),
    "26, with 23mm ZU-23, destroyed": ((26,), [(D, "")], "with 23mm ZU-23"),
    "31, with ZU-23 AA gun, destroyed": ((31,), [(D, "")], "with ZU-23 AA gun"),
}


def parsed(text: str) -> tuple[tuple[int, ...], list[tuple[Fate, str]], str]:
    label = label_parse(text)
    return label.numbers, [(s.fate, s.detail) for s in label.states], label.note


@needs_pages
def test_it_knows_every_case_of_descriptions_txt() -> None:
    lines = [
        line.strip()
        for line in (ORYX_PAGES / "descriptions.txt").read_text().splitlines()
        if line.strip()
    ]
    assert sorted(lines) == sorted(DESCRIPTIONS)


@pytest.mark.parametrize("text", list(DESCRIPTIONS))
def test_it_parses_the_label(text: str) -> None:
    assert parsed(text) == DESCRIPTIONS[text]
    assert parsed(f"({text})") == DESCRIPTIONS[text]


@pytest.mark.parametrize(
    ("text", "numbers", "fates", "correction"),
    [
        ("(3, destoyed)", (3,), [D], "destoyed -> destroyed"),
        ("(3, captued)", (3,), [CA], "captued -> captured"),
        ("(3, abandonded)", (3,), [AB], "abandonded -> abandoned"),
        ("(3, damaged and abanonded)", (3,), [DA, AB], "abanonded -> abandoned"),
        ("(3, damagd and captured)", (3,), [DA, CA], "damagd -> damaged"),
    ],
)
def test_it_reads_misspelt_states_and_says_so(
    text: str, numbers: tuple[int, ...], fates: list[Fate], correction: str
) -> None:
    label = label_parse(text)
    assert label.numbers == numbers
    assert [s.fate for s in label.states] == fates
    assert label.corrections == (correction,)


@pytest.mark.parametrize(
    ("text", "numbers", "fates"),
    [
        ("(71 and 72 destroyed)", (71, 72), [D]),
        ("(5 abandoned)", (5,), [AB]),
        ("39, destroyed)", (39,), [D]),
        ("(13, destroyed", (13,), [D]),
        ("(1, damaged, abandoned and later destroyed)", (1,), [DA, AB, D]),
        ("(2, captured and stripped)", (2,), [CA]),
        ("(1, destroyed by Bayraktar TB2 and Harpoon AShM)", (1,), [D]),
    ],
)
def test_it_tolerates_what_the_pages_really_hold(
    text: str, numbers: tuple[int, ...], fates: list[Fate]
) -> None:
    label = label_parse(text)
    assert (label.numbers, [s.fate for s in label.states]) == (numbers, fates)


def test_it_keeps_a_word_like_a_state_inside_detail_as_detail() -> None:
    label = label_parse("(1, scuttled to prevent capture by Russia)")
    assert [s.fate for s in label.states] == [D]


@pytest.mark.parametrize("text", ["(destroyed)", "here", "(1, 2 and 3)", "(2S1, destroyed)", ""])
def test_it_refuses_a_label_without_numbers_or_states(text: str) -> None:
    with pytest.raises(LabelError):
        label_parse(text)


STATES = st.sampled_from(["destroyed", "damaged", "abandoned", "captured"])
JOINERS = st.sampled_from([" and ", " and later ", ", "])


def numbers_text(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return str(numbers[0])
    return ", ".join(str(n) for n in numbers[:-1]) + f" and {numbers[-1]}"


@given(
    numbers=st.lists(st.integers(min_value=1, max_value=9999), min_size=1, max_size=6),
    states=st.lists(STATES, min_size=1, max_size=3),
    joiners=st.lists(JOINERS, min_size=2, max_size=2),
    note=st.sampled_from(["", "with ZU-23 AA gun, ", "unknown ID, ", "'BG 309', "]),
)
def test_it_round_trips_generated_labels(
    numbers: list[int], states: list[str], joiners: list[str], note: str
) -> None:
    text = states[0]
    for i, state in enumerate(states[1:]):
        text += joiners[i] + state
    label = label_parse(f"({numbers_text(numbers)}, {note}{text})")
    assert label.numbers == tuple(numbers)
    assert [s.fate.value for s in label.states] == states
    assert label.note == note.rstrip(", ")
    assert label.fate.value == states[-1]


@given(
    number=st.integers(min_value=1, max_value=999),
    state=STATES,
    position=st.integers(min_value=0, max_value=8),
    letter=st.sampled_from("xq"),
)
def test_it_reads_a_state_with_one_wrong_letter(
    number: int, state: str, position: int, letter: str
) -> None:
    i = position % len(state)
    typo = state[:i] + letter + state[i + 1 :]
    label = label_parse(f"({number}, {typo})")
    assert [s.fate.value for s in label.states] == [state]
