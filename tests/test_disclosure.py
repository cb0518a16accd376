"""The disclosure-control module: the breaks from issue 18 with the arithmetic, and a property test that
no hidden figure, nor any set of fewer than k people, can be worked out from what is shown."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.disclosure import TOTAL, Decision, decide, includes_pupils, key_of, threshold
from bot.settings import load_settings


def people(municipality: str | None, role: str | None, n: int) -> list[dict[str, str | None]]:
    return [{"municipality": municipality, "role": role} for _ in range(n)]


def test_break_1_the_total_minus_the_shown_roles_no_longer_gives_the_pupil_back() -> None:
    # 6 staff answered 4, 6 counsellors answered 2, 1 pupil answered 5.
    members = people("Ale", "staff", 6) + people("Ale", "counsellor", 6) + people("Ale", "pupil", 1)
    decision = decide(members, 5)
    shown = {g.value("role"): g.shown for g in decision.breakdown("role")}
    assert decision.total_shown
    assert shown == {"counsellor": True, "pupil": False, "staff": False}  # staff hidden too: total - counsellors = staff + pupil
    staff_and_pupil = 6 * 4 + 5
    assert staff_and_pupil != 5  # what total minus the shown roles gives is 7 people's sum, not the pupil's answer


def test_break_2_municipality_and_role_combinations_are_held_to_the_threshold() -> None:
    # A = 1 counsellor + 4 staff, B = 4 counsellors + 1 staff: every single group has 5, but A minus
    # "staff" is the A counsellor minus the B staff member: two people.
    members = (people("A", "counsellor", 1) + people("A", "staff", 4)
               + people("B", "counsellor", 4) + people("B", "staff", 1))
    decision = decide(members, 5)
    assert decision.shown(municipality="A") and decision.shown(municipality="B")
    assert not decision.shown(role="counsellor") and not decision.shown(role="staff")
    assert not decision.shown(municipality="A", role="counsellor")
    assert decision.export_attributes({"municipality": "A", "role": "counsellor"}) == {"municipality": "A"}


def test_the_respondent_count_itself_is_hidden_below_the_threshold() -> None:
    decision = decide(people("A", "staff", 4), 5)
    assert not decision.total_shown and decision.shown_n() is None
    assert all(not g.shown for g in decision.groups.values())
    assert decide(people("A", "staff", 5), 5).shown_n() == 5


def test_a_view_within_one_municipality_uses_the_same_decision() -> None:
    members = people("A", "staff", 6) + people("A", "pupil", 7) + people("B", "staff", 2)
    decision = decide(members, 5)
    inside = decision.within(municipality="A")
    assert inside.n == 13 and inside.total_shown == decision.shown(municipality="A")
    assert inside.shown(role="pupil") == decision.shown(municipality="A", role="pupil")
    assert [g.value("role") for g in inside.breakdown("role")] == ["pupil", "staff"]


def test_a_breakdown_that_only_repeats_the_total_is_left_out() -> None:
    assert decide(people("A", "staff", 9), 5).breakdown("role") == []


def test_pupils_raise_the_threshold() -> None:
    config = load_settings(min_group_size=5, min_group_size_pupils=7)
    assert threshold(config, pupils=False) == 5 and threshold(config, pupils=True) == 7
    assert includes_pupils(["staff", "pupil"]) and not includes_pupils(["staff", None])
    assert not decide(people("A", "pupil", 6), threshold(config, pupils=True)).total_shown


def test_many_small_cells_are_decided_safely() -> None:
    # 13 municipalities x 4 roles, three people in each combination.
    members: list[dict[str, str | None]] = [{"municipality": f"M{i % 13}", "role": ("pupil", "staff", "counsellor", "lead")[i % 4]}
               for i in range(156)]
    decision = decide(members, 5)
    assert decision.total_shown and decision.shown(role="pupil")
    assert not decision.shown(municipality="M1", role="pupil")
    assert_nothing_small_is_derivable(members, decision)


# --- the property ---------------------------------------------------------------------------------

def assert_nothing_small_is_derivable(members: list[dict[str, str | None]], decision: Decision) -> None:
    """Independent check with floating-point ranks (numpy), not the module's exact elimination:
    (1) no hidden group is a linear combination of the shown groups, and (2) no nonzero combination
    of shown groups lives on cells holding fewer than k people together."""
    combos = Counter((m["municipality"], m["role"]) for m in members)
    cells = sorted(combos, key=str)
    sizes = [combos[c] for c in cells]

    def vector(key: tuple[tuple[str, str], ...]) -> np.ndarray:
        where = dict(key)
        return np.array([float(all(dict(zip(("municipality", "role"), c, strict=True)).get(d) == v
                                   for d, v in where.items())) for c in cells])

    shown = [vector(g.key) for g in decision.groups.values() if g.shown]
    hidden = [g for g in decision.groups.values() if not g.shown]
    if not shown:
        assert not decision.total_shown
        return
    matrix = np.array(shown)
    rank = np.linalg.matrix_rank(matrix)
    for group in hidden:
        assert np.linalg.matrix_rank(np.vstack([matrix, vector(group.key)])) > rank, f"{group.key} derivable"
    for group in decision.groups.values():
        assert not group.shown or group.n >= decision.k
    small = [i for i, n in enumerate(sizes) if n < decision.k]
    for size in range(1, decision.k):
        for subset in itertools.combinations(small, size):
            if sum(sizes[i] for i in subset) >= decision.k:
                continue
            units = np.zeros((len(subset), len(cells)))
            for row, cell in enumerate(subset):
                units[row, cell] = 1.0
            joint = np.linalg.matrix_rank(np.vstack([matrix, units]))
            assert joint == rank + len(subset), f"a combination isolates cells {[cells[i] for i in subset]}"


cell_counts = st.dictionaries(
    keys=st.tuples(st.sampled_from(["Ale", "Borås", "Kungälv", None]),
                   st.sampled_from(["pupil", "staff", "counsellor", None])),
    values=st.integers(min_value=1, max_value=9), min_size=1, max_size=10)


@settings(max_examples=300, deadline=None)
@given(counts=cell_counts, k=st.integers(min_value=2, max_value=7))
def test_no_suppressed_value_can_be_worked_out_from_what_is_shown(
        counts: dict[tuple[str | None, str | None], int], k: int) -> None:
    members = [m for (municipality, role), n in counts.items() for m in people(municipality, role, n)]
    decision = decide(members, k)
    assert decision.total_shown == (len(members) >= k)
    assert_nothing_small_is_derivable(members, decision)
    assert decision.groups[TOTAL].n == len(members)
    assert key_of(role="staff", municipality="Ale") == (("municipality", "Ale"), ("role", "staff"))


def test_many_single_answers_in_their_own_cells_still_show_the_total() -> None:
    # 60 people, each alone in their combination: nothing but the total can be shown, and it is.
    members: list[dict[str, str | None]] = [{"municipality": f"M{i}", "role": "staff"} for i in range(60)]
    decision = decide(members, 7)
    assert decision.total_shown and decision.shown_n() == 60
    assert not any(g.shown for key, g in decision.groups.items() if key != TOTAL and g.n < 60)
