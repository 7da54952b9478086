"""Find the admin unit a province and district name refer to, through names, codes and aliases.

Matching is exact after normalisation (attrition.catalog.services.alias_normalize), keyed on the
province first because district names repeat across provinces. Nothing is guessed: a name that
does not match is reported, with the closest spellings in the same province as suggestions that
a person may add as aliases.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from attrition.catalog.services import alias_normalize
from attrition.territory.models import AdminUnit, AdminUnitAlias

PROVINCE, DISTRICT = AdminUnit.Level.PROVINCE, AdminUnit.Level.DISTRICT


@dataclass(frozen=True)
class Match:
    """The unit a name pair names, or why there is none, with spellings that come close."""

    unit_id: int | None
    problem: str = ""
    suggestions: list[str] = field(default_factory=list)


class UnitMatcher:
    """Names, codes and aliases of one boundary set's provinces and districts, in memory."""

    def __init__(self, boundary_set_id: int) -> None:
        units = AdminUnit.objects.filter(
            boundary_set_id=boundary_set_id, level__in=[PROVINCE, DISTRICT]
        ).values_list("pk", "level", "code", "name", "parent_id")
        self.names: dict[int, str] = {}
        self.codes: dict[str, int] = {}
        self.provinces: dict[str, int] = {}
        self.districts: dict[tuple[int, str], int] = {}
        self.level: dict[int, int] = {}
        parent: dict[int, int | None] = {}
        for pk, level, code, name, parent_id in units:
            self.names[pk] = name
            self.codes[code.casefold()] = pk
            self.level[pk] = level
            parent[pk] = parent_id
        spellings = [(pk, self.names[pk]) for pk in self.names]
        spellings += list(
            AdminUnitAlias.objects.filter(unit_id__in=list(self.names)).values_list(
                "unit_id", "alias"
            )
        )
        for pk, spelling in spellings:
            key = alias_normalize(spelling)
            if self.level[pk] == PROVINCE:
                self.provinces.setdefault(key, pk)
            elif (province_id := parent[pk]) is not None:
                self.districts.setdefault((province_id, key), pk)

    def province(self, name: str) -> int | None:
        """Return the id of the province with this name, alias or P-code, or None."""
        found = self.codes.get(name.strip().casefold())
        if found is not None and self.level[found] == PROVINCE:
            return found
        return self.provinces.get(alias_normalize(name))

    def match(self, *, province: str, district: str = "") -> Match:
        """Return the district (or, with no district, the province) these names refer to."""
        code = self.codes.get(district.strip().casefold()) if district else None
        if code is not None:
            return Match(unit_id=code)
        province_id = self.province(province)
        if province_id is None:
            return Match(
                unit_id=None,
                problem=f"no province {province!r}",
                suggestions=sorted(
                    {
                        self.names[self.provinces[k]]
                        for k in self._close(province, [*self.provinces])
                    }
                ),
            )
        if not district.strip():
            return Match(unit_id=province_id)
        found = self.districts.get((province_id, alias_normalize(district)))
        if found is not None:
            return Match(unit_id=found)
        options = {k: v for (p, k), v in self.districts.items() if p == province_id}
        close = self._close(district, list(options))
        return Match(
            unit_id=None,
            problem=f"no district {district!r} in {self.names[province_id]}",
            suggestions=sorted({self.names[options[k]] for k in close}),
        )

    def _close(self, name: str, keys: list[str]) -> list[str]:
        return difflib.get_close_matches(alias_normalize(name), keys, n=3, cutoff=0.6)
