"""Disclosure control: the one place that decides which groups a published number may describe.

Every figure any output shows about survey answers (Slack results, the close summary, App Home,
trends, charts, the HTML report, CSV/XLSX/JSON exports, the pupils' page) is a sum over a set of
people: the count of a group, how many in it chose an answer, the sum behind a mean. An output may
only show figures for the groups this module marks as shown, and it must show a group's figures
either all or not at all.

Why not just "hide groups below the threshold": a reader holding several figures can add and
subtract them. Total minus every shown role gives the hidden role back; municipality A minus role
"staff" can be one person when A has one counsellor. So the rule here is about *every linear
combination* of what is shown, across every breakdown any output can show for the same answers (the
total, each municipality, each role, each municipality × role combination, and the classes of a
row-level export):

    No linear combination of shown groups describes a nonzero set of fewer than `k` people.

How: people fall into cells (one per combination of municipality and role). Groups below `k` are
hidden first (primary suppression). Then an exact check over the rationals looks for a combination
of shown groups that is zero on every cell of `k` or more people and non-zero only on cells holding
fewer than `k` people together; while one exists, the smallest group in it is hidden as well
(complementary suppression; the total goes last). The total itself, and with it every figure, is
hidden when fewer than `k` answered. When the number of candidate cell sets is too large to check
one by one, the check becomes stricter (any such combination counts), never weaker.

Limits (also in docs/privacy.md): a group in which everybody gave the same answer reveals that
answer for each member (as in every published table); medians are shown only for totals; what the
reader knows from outside (say, that only one pupil in 7B answered) is not modelled.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Protocol

DIMENSIONS: tuple[str, ...] = ("municipality", "role")
PUPIL_ROLE = "pupil"
_CHECK_BUDGET = 4000  # candidate cell sets checked exactly before the stricter rule takes over

GroupKey = tuple[tuple[str, str], ...]  # (("municipality", "Mölndal"), ("role", "staff")); () is everybody
TOTAL: GroupKey = ()


class Thresholds(Protocol):
    @property
    def min_group_size(self) -> int: ...

    @property
    def min_group_size_pupils(self) -> int: ...


@dataclass(frozen=True)
class Limits:
    """Thresholds given directly (tests, tools) rather than from the settings."""

    min_group_size: int
    min_group_size_pupils: int


def threshold(settings: Thresholds, pupils: bool) -> int:
    """MIN_GROUP_SIZE, or MIN_GROUP_SIZE_PUPILS when the group or the audience includes pupils."""
    return max(settings.min_group_size, settings.min_group_size_pupils) if pupils else settings.min_group_size


def count_threshold(settings: Thresholds) -> int:
    """For a count shown before the answers are known (a live count of an open survey): the larger one."""
    return threshold(settings, pupils=True)


def includes_pupils(roles: Iterable[str | None]) -> bool:
    return any(role == PUPIL_ROLE for role in roles)


def key_of(**where: str | None) -> GroupKey:
    """The group key for e.g. key_of(role="pupil") or key_of(municipality="Ale", role="staff")."""
    return tuple(sorted((dim, value) for dim, value in where.items() if value is not None))


@dataclass(frozen=True)
class Group:
    key: GroupKey
    n: int
    shown: bool

    def value(self, dimension: str) -> str | None:
        return dict(self.key).get(dimension)


@dataclass
class Decision:
    """What may be shown about one set of answers (one question of one survey)."""

    k: int
    groups: dict[GroupKey, Group] = field(default_factory=dict)
    dimensions: tuple[str, ...] = DIMENSIONS
    scope: GroupKey = TOTAL  # a view restricted to one group (a report filtered by municipality)

    def _full(self, key: GroupKey) -> GroupKey:
        return tuple(sorted(set(self.scope) | set(key)))

    def shown(self, **where: str | None) -> bool:
        """May figures be shown for this group? shown() asks about everybody (in scope)."""
        group = self.groups.get(self._full(key_of(**where)))
        return group is not None and group.shown

    @property
    def total_shown(self) -> bool:
        return self.shown()

    @property
    def n(self) -> int:
        group = self.groups.get(self.scope)
        return group.n if group else 0

    def shown_n(self, **where: str | None) -> int | None:
        """The group's count if it may be shown, else None."""
        group = self.groups.get(self._full(key_of(**where)))
        return group.n if group is not None and group.shown else None

    def breakdown(self, dimension: str) -> list[Group]:
        """The groups of one dimension within scope, in name order; empty when the breakdown would only
        repeat the total (a single group that is everybody)."""
        found = []
        for key, group in self.groups.items():
            rest = dict(set(key) - set(self.scope))
            if set(self.scope) <= set(key) and list(rest) == [dimension]:
                found.append(Group(key=tuple(sorted(rest.items())), n=group.n, shown=group.shown))
        found.sort(key=lambda g: str(g.value(dimension)).casefold())
        if len(found) == 1 and found[0].n == self.n:
            return []
        return found

    def within(self, **where: str | None) -> Decision:
        """The same decision seen from inside one group: shown() then asks about that group's parts."""
        return Decision(k=self.k, groups=self.groups, dimensions=self.dimensions,
                        scope=tuple(sorted(set(self.scope) | set(key_of(**where)))))

    def export_attributes(self, attributes: Mapping[str, str | None]) -> dict[str, str]:
        """The attributes a row-level export may print for a person with these attributes.

        When some municipality (or combination) is shown: the full combination when that cell is shown,
        else the municipality alone when it is shown, else nothing. When none is: the role when it is
        shown, else nothing. Either way each class of rows with the same printed attributes is a shown
        group minus shown groups, so the rows reveal nothing the shown figures do not."""
        municipality = attributes.get("municipality")
        role = attributes.get("role")
        by_place = any(g.shown and "municipality" in dict(g.key) for g in self.groups.values())
        if not by_place:
            return {"role": role} if role and self.shown(role=role) else {}
        if municipality and role and self.shown(municipality=municipality, role=role):
            return {"municipality": municipality, "role": role}
        if municipality and self.shown(municipality=municipality):
            return {"municipality": municipality}
        return {}


Member = Mapping[str, str | None]


def _candidates(members: Sequence[Member], dimensions: Sequence[str]) -> dict[GroupKey, frozenset[int]]:
    """Every group any output can show, as the set of cells (combinations) it covers."""
    cells: dict[tuple[str | None, ...], int] = {}
    for member in members:
        cells.setdefault(tuple(member.get(d) or None for d in dimensions), len(cells))
    groups: dict[GroupKey, set[int]] = {TOTAL: set(cells.values())}
    for combo, index in cells.items():
        present = [(d, v) for d, v in zip(dimensions, combo, strict=True) if v is not None]
        for size in range(1, len(present) + 1):
            for part in itertools.combinations(present, size):
                groups.setdefault(tuple(sorted(part)), set()).add(index)
    return {key: frozenset(value) for key, value in groups.items()}


def decide(members: Sequence[Member], k: int, dimensions: Sequence[str] = DIMENSIONS) -> Decision:
    """Decide, for the people behind one set of answers (one mapping of attributes per answer), which
    groups may be shown. Pass every answer of the question, unfiltered: filtered views use `within`."""
    dimensions = tuple(dimensions)
    cell_of: dict[tuple[str | None, ...], int] = {}
    sizes: list[int] = []
    for member in members:
        combo = tuple(member.get(d) or None for d in dimensions)
        if combo not in cell_of:
            cell_of[combo] = len(sizes)
            sizes.append(0)
        sizes[cell_of[combo]] += 1
    candidates = _candidates(members, dimensions)
    n_of = {key: sum(sizes[c] for c in cells) for key, cells in candidates.items()}
    # Groups covering the same people are one set: shown or hidden together.
    by_cells: dict[frozenset[int], list[GroupKey]] = {}
    for key, cells in candidates.items():
        by_cells.setdefault(cells, []).append(key)
    shown_sets = {cells for cells in by_cells if sum(sizes[c] for c in cells) >= k}
    total_cells = candidates[TOTAL]
    if total_cells not in shown_sets:
        shown_sets = set()
    while shown_sets:
        culprit = _disclosing_combination(sorted(shown_sets, key=sorted), sizes, k)
        if culprit is None:
            break
        shown_sets.discard(_next_to_hide(culprit, sizes, total_cells))
    # A hidden group that the shown ones add up to anyway is shown: it reveals nothing new, and so a
    # hidden figure is always one that cannot be worked out.
    if shown_sets:
        in_span = _span_test(sorted(shown_sets, key=sorted), len(sizes))
        shown_sets |= {cells for cells in by_cells if cells not in shown_sets and in_span(cells)}
    groups = {key: Group(key=key, n=n_of[key], shown=candidates[key] in shown_sets) for key in candidates}
    return Decision(k=k, groups=groups, dimensions=dimensions)


def _span_test(shown: list[frozenset[int]], cells: int) -> Callable[[frozenset[int]], bool]:
    """A test of whether a set of cells is a linear combination of the shown sets."""
    one = Fraction(1)
    _, basis = _eliminate([{c: one for c in group} for group in shown], range(cells))

    def test(candidate: frozenset[int]) -> bool:
        target: Row = {c: one for c in candidate}
        for column, row in basis:
            _subtract(target, target.get(column), row)
        return not target

    return test


def _next_to_hide(involved: list[frozenset[int]], sizes: list[int], total: frozenset[int]) -> frozenset[int]:
    others = [cells for cells in involved if cells != total] or involved
    return min(others, key=lambda cells: (sum(sizes[c] for c in cells), sorted(cells)))


Row = dict[int, Fraction]  # sparse: column -> non-zero value


def _subtract(target: Row, factor: Fraction | None, row: Row) -> None:
    """target -= factor × row, in place, keeping the row sparse (no zero entries)."""
    if not factor:
        return
    for i, v in row.items():
        value = target.get(i, 0) - factor * v
        if value:
            target[i] = value
        else:
            target.pop(i, None)


def _eliminate(rows: list[Row], columns: Iterable[int]) -> tuple[list[Row], list[tuple[int, Row]]]:
    """Gaussian elimination on `columns` (in that order): (the rows left over, which are zero on all of
    them and span every combination of the input that vanishes there; the pivot rows with their column)."""
    rows = [dict(r) for r in rows]
    pivots: list[tuple[int, Row]] = []
    for column in columns:
        index = next((i for i, r in enumerate(rows) if column in r), None)
        if index is None:
            continue
        found = rows.pop(index)
        scale = found[column]
        pivot = {i: v / scale for i, v in found.items()}
        for r in rows + [p for _, p in pivots]:
            _subtract(r, r.get(column), pivot)
        pivots.append((column, pivot))
    return [r for r in rows if r], pivots


def _disclosing_combination(shown: list[frozenset[int]], sizes: list[int], k: int) -> list[frozenset[int]] | None:
    """The shown sets taking part in a combination that isolates fewer than k people, or None."""
    cells = len(sizes)
    one = Fraction(1)
    # Each row is a shown set over the cells, plus a column of its own that remembers which sets a
    # combination uses.
    rows: list[Row] = [{**{c: one for c in group}, cells + index: one} for index, group in enumerate(shown)]
    big = [c for c in range(cells) if sizes[c] >= k]
    small = sorted((c for c in range(cells) if sizes[c] < k), key=lambda c: -sizes[c])
    rows, _ = _eliminate(rows, big)  # combinations that say nothing about any large cell
    # Reduced echelon form on the small cells, heaviest cells as pivots: a combination confined to
    # fewer than k people uses only basis rows whose pivot cells weigh less than k together.
    _, basis = _eliminate(rows, small)
    if not basis:
        return None

    def involved(row: Row) -> list[frozenset[int]]:
        return [shown[i] for i in range(len(shown)) if cells + i in row]

    if len(basis) == 1:  # every combination is a multiple of this one row: its cells are all there is
        row = basis[0][1]
        return None if sum(sizes[c] for c in small if c in row) >= k else involved(row)
    checked = 0
    for size in range(1, k):
        for chosen in itertools.combinations(basis, size):
            weight = sum(sizes[c] for c, _ in chosen)
            if weight >= k:
                continue
            members = [row for _, row in chosen]
            touched = [c for c in small if any(c in row for row in members)]
            pivots = {p for p, _ in chosen}
            free = [c for c in touched if c not in pivots]
            for extra in _light_sets(free, sizes, k - weight):
                checked += 1
                if checked > _CHECK_BUDGET:
                    return involved(members[0])  # too many to check: stricter, never weaker
                left, _ = _eliminate(members, [c for c in free if c not in extra])
                confined = [r for r in left if any(c in r for c in touched)]
                if confined:
                    return involved(confined[0])
    return None


def _light_sets(cells: list[int], sizes: list[int], limit: int) -> Iterable[frozenset[int]]:
    """Maximal sets of these cells holding fewer than `limit` people together (the empty set when no
    cell fits): a combination confined to a smaller set is confined to a maximal one containing it."""
    ordered = sorted(cells, key=lambda c: sizes[c])

    def grow(start: int, chosen: list[int], total: int) -> Iterable[frozenset[int]]:
        extended = False
        for i in range(start, len(ordered)):
            c = ordered[i]
            if total + sizes[c] < limit:
                extended = True
                yield from grow(i + 1, chosen + [c], total + sizes[c])
        if not extended and all(c in chosen or total + sizes[c] >= limit for c in ordered):
            yield frozenset(chosen)

    yield from grow(0, [], 0)
