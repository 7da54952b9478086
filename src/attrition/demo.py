"""Sample records that let a new instance show a working tracker, marked as sample everywhere.

Nothing here is real: the losses, evidence, claims and tallies are made up in the shape of the
Afghanistan 2021 data (Oryx's categories, the models seen there, the provinces that fell), their
URLs are on the reserved `.invalid` domain, and every one carries `is_sample=True` so that pages
mark it and `demo_remove()` takes it all away again.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import TextIO

from django.db import transaction
from django.db.models import ProtectedError

from attrition.catalog.models import Conflict, EquipmentModel, Side
from attrition.catalog.services import model_lookup
from attrition.claims.models import Claim, ClaimVersion
from attrition.errors import InvalidInput
from attrition.evidence.models import Capture, CustodyRecord, Evidence, EvidenceVersion
from attrition.evidence.services import evidence_create
from attrition.losses.choices import PlacePrecision, ReviewStatus
from attrition.losses.models import (
    Depiction,
    DepictionVersion,
    Loss,
    LossVersion,
    Tally,
    TallyVersion,
)
from attrition.losses.services import depiction_create, loss_create, loss_merge, loss_set_status
from attrition.territory.models import AdminUnit

CONFLICT = "afghanistan-2021"
LOSER, CAPTOR = "andsf", "taliban"
VIA = "demo"

# (model name, how many Afghan-forces losses, fate histories to draw from)
AFGHAN_LOSSES: list[tuple[str, int, list[list[str]]]] = [
    ("T-55", 4, [["captured"], ["abandoned"]]),
    ("T-62M", 3, [["captured"], ["destroyed"]]),
    ("M1117 ASV", 14, [["captured"], ["captured"], ["destroyed"], ["captured", "destroyed"]]),
    ("M113", 2, [["captured"]]),
    ("MaxxPro", 5, [["captured"], ["damaged", "abandoned"]]),
    ("M1151 HMMWV", 12, [["captured"], ["destroyed"], ["damaged", "captured"]]),
    ("M1152 HMMWV", 6, [["captured"], ["abandoned"]]),
    ("122mm D-30", 6, [["captured"]]),
    ("23mm ZU-23-2", 3, [["captured"], ["destroyed"]]),
    ("Mi-17", 2, [["captured"], ["destroyed"]]),
    ("UH-60A Black Hawk", 2, [["captured"]]),
    ("MD 530F", 1, [["damaged", "captured"]]),
    ("A-29 Super Tucano", 1, [["captured"]]),
    ("ScanEagle", 2, [["captured"]]),
    ("Ford Ranger", 15, [["captured"], ["captured"], ["destroyed"]]),
    ("International 7000-MV", 6, [["captured"], ["destroyed"]]),
]
TALIBAN_LOSSES: list[tuple[str, int, list[list[str]]]] = [
    ("Ford Ranger", 4, [["destroyed"]]),
    ("M1151 HMMWV", 2, [["captured", "destroyed"]]),
]
PROVINCES = ["Badakhshan", "Kunduz", "Hilmand", "Kandahar", "Hirat", "Balkh", "Ghazni", "Faryab"]
PLATFORMS = ["t.me/sample_channel", "x.com/sample_account/status", "youtube.com/watch?v="]


def _sample_url(rng: random.Random, n: int) -> str:
    host = rng.choice(PLATFORMS)
    return f"https://sample.invalid/{host}{1000 + n}"


def _districts(conflict: Conflict) -> list[AdminUnit]:
    units = AdminUnit.objects.filter(
        boundary_set_id=conflict.boundary_set_id,
        level=AdminUnit.Level.DISTRICT,
        parent__name__in=PROVINCES,
    ).order_by("code")
    return list(units)


def _model(name: str) -> EquipmentModel:
    model = model_lookup(name=name)
    if model is None:
        raise InvalidInput(
            f"the reference catalog has no model {name!r}: run `attrition reference`"
        )
    return model


def _planned(rng: random.Random) -> Iterator[tuple[str, EquipmentModel, list[str]]]:
    for side, table in ((LOSER, AFGHAN_LOSSES), (CAPTOR, TALIBAN_LOSSES)):
        for name, count, fate_choices in table:
            model = _model(name)
            for _ in range(count):
                yield side, model, rng.choice(fate_choices)


def _fate_entries(fates: list[str], day: dt.date) -> list[dict[str, object]]:
    return [
        {"fate": fate, "date": (day + dt.timedelta(days=i * 3)).isoformat()}
        for i, fate in enumerate(fates)
    ]


def demo_load(*, stdout: TextIO | None = None) -> dict[str, int]:
    """Create the sample losses, evidence, claims and tally (once; a second call adds nothing)."""
    conflict = Conflict.objects.filter(slug=CONFLICT).first()
    if conflict is None:
        raise InvalidInput(f"conflict {CONFLICT!r} is missing: run `attrition reference` first")
    if Loss.objects.filter(is_sample=True).exists():
        if stdout:
            stdout.write("sample data already loaded; nothing to do\n")
        return {"losses": 0, "evidence": 0, "claims": 0, "tallies": 0}
    rng = random.Random(2021)  # noqa: S311 - deterministic sample data, not security
    sides = {s.slug: s for s in Side.objects.filter(conflict=conflict)}
    districts = _districts(conflict)
    start = conflict.period_start or dt.date(2021, 5, 1)
    with transaction.atomic():
        losses = []
        for side_slug, model, fates in _planned(rng):
            day = start + dt.timedelta(days=rng.randrange(0, 118))
            district = rng.choice(districts) if districts else None
            captor = sides[CAPTOR] if side_slug == LOSER and "captured" in fates else None
            losses.append(
                loss_create(
                    conflict=conflict,
                    side=sides[side_slug],
                    model=model,
                    fates=_fate_entries(fates, day),
                    captured_by=captor,
                    first_seen=day,
                    admin_unit=district,
                    lon=district.label_lon if district else None,
                    lat=district.label_lat if district else None,
                    place_precision=PlacePrecision.DISTRICT if district else PlacePrecision.UNKNOWN,
                    status=ReviewStatus.VERIFIED,
                    is_sample=True,
                    description="Sample record for demonstration; not a real loss.",
                    via=VIA,
                )
            )
        _depict(rng, losses)
        _review_states(rng, conflict, sides, losses)
        claims, tallies = _claims_and_tallies(conflict)
    counts = {
        "losses": Loss.objects.filter(is_sample=True).count(),
        "evidence": Evidence.objects.filter(is_sample=True).count(),
        "claims": claims,
        "tallies": tallies,
    }
    if stdout:
        stdout.write(
            "sample data loaded: {losses} losses, {evidence} evidence, {claims} claims, "
            "{tallies} tallies (marked as sample; remove with `attrition demo --remove`)\n".format(
                **counts
            )
        )
    return counts


def _depict(rng: random.Random, losses: list[Loss]) -> int:
    """Link losses to sample evidence: some posts show several items, some items several posts."""
    n = 0
    queue = list(losses)
    while queue:
        group = [queue.pop(0) for _ in range(min(len(queue), rng.choice([1, 1, 1, 2, 3])))]
        n += 1
        evidence = evidence_create(
            url=_sample_url(rng, n),
            channel="sample channel",
            title=f"Sample post {n}",
            is_sample=True,
            via=VIA,
        )
        for loss in group:
            depiction_create(loss=loss, evidence=evidence, via=VIA)
    for loss in rng.sample(losses, k=len(losses) // 8):
        n += 1
        evidence = evidence_create(
            url=_sample_url(rng, n), title=f"Sample repost {n}", is_sample=True, via=VIA
        )
        depiction_create(loss=loss, evidence=evidence, via=VIA)
    return n


def _review_states(
    rng: random.Random, conflict: Conflict, sides: dict[str, Side], losses: list[Loss]
) -> None:
    """Add records that readers must not see counted: drafts, submissions, a rejection, merges."""
    for status in [ReviewStatus.SUBMITTED] * 4 + [ReviewStatus.DRAFT] * 2:
        loss = loss_create(
            conflict=conflict,
            side=sides[LOSER],
            model=_model("M1117 ASV"),
            fates=["captured"],
            captured_by=sides[CAPTOR],
            status=ReviewStatus.DRAFT,
            is_sample=True,
            via=VIA,
        )
        if status != ReviewStatus.DRAFT:
            loss_set_status(loss=loss, status=status, via=VIA)
    rejected = loss_create(
        conflict=conflict,
        side=sides[LOSER],
        model=_model("T-55"),
        fates=["destroyed"],
        status=ReviewStatus.SUBMITTED,
        is_sample=True,
        via=VIA,
    )
    loss_set_status(
        loss=rejected,
        status=ReviewStatus.REJECTED,
        reason="Sample: the photo shows a museum piece, not a loss.",
        via=VIA,
    )
    for original in rng.sample(losses[:60], k=2):
        duplicate = loss_create(
            conflict=conflict,
            side=original.side,
            model=original.model,
            fates=original.fate_history,
            captured_by=original.captured_by,
            first_seen=original.first_seen,
            status=ReviewStatus.SUBMITTED,
            is_sample=True,
            via=VIA,
        )
        evidence = evidence_create(
            url=f"https://sample.invalid/duplicate/{duplicate.pk}", is_sample=True, via=VIA
        )
        depiction_create(loss=duplicate, evidence=evidence, via=VIA)
        loss_merge(
            loss=duplicate, into=original, reason="Sample: same vehicle, two videos.", via=VIA
        )


def _claims_and_tallies(conflict: Conflict) -> tuple[int, int]:
    Claim.objects.create(
        conflict=conflict,
        claimant="Sample analysts",
        claimed_on=dt.date(2021, 7, 10),
        scope="military vehicles captured or destroyed",
        kind=Claim.Kind.ABOUT,
        number=700,
        status=ReviewStatus.VERIFIED,
        is_sample=True,
        quote="Sample claim, in the shape of estimates reported in July 2021.",
    )
    Tally.objects.create(
        conflict=conflict,
        slug="sample-armoured-vehicles",
        name="Armoured vehicles lost by Afghan forces (sample)",
        description="Tanks, AFVs, APCs, MRAPs and IMVs, excluding artillery and trucks.",
        rule={
            "sides": [LOSER],
            "categories_in": [
                "tanks",
                "armoured-fighting-vehicles",
                "armoured-personnel-carriers",
                "mrap",
                "infantry-mobility-vehicles",
            ],
        },
        is_sample=True,
    )
    return 1, 1


def demo_remove(*, stdout: TextIO | None = None) -> dict[str, int]:
    """Delete every sample record and its versions; real records are never touched."""
    losses = Loss.objects.filter(is_sample=True)
    evidence = Evidence.objects.filter(is_sample=True)
    try:
        with transaction.atomic():
            depictions = Depiction.objects.filter(loss__in=losses) | Depiction.objects.filter(
                evidence__in=evidence
            )
            DepictionVersion._default_manager.filter(record__in=depictions).delete()
            depictions.delete()
            LossVersion._default_manager.filter(record__in=losses).delete()
            n_losses = losses.count()
            losses.filter(merged_into__isnull=False).delete()
            losses.delete()
            CustodyRecord.objects.filter(evidence__in=evidence).delete()
            Capture.objects.filter(is_sample=True).delete()
            EvidenceVersion._default_manager.filter(record__in=evidence).delete()
            n_evidence = evidence.count()
            evidence.delete()
            claims = Claim.objects.filter(is_sample=True)
            ClaimVersion._default_manager.filter(record__in=claims).delete()
            n_claims, _ = claims.delete()
            tallies = Tally.objects.filter(is_sample=True)
            TallyVersion._default_manager.filter(record__in=tallies).delete()
            n_tallies, _ = tallies.delete()
    except ProtectedError as exc:
        raise InvalidInput(
            "sample records are referenced by real ones and were not removed: "
            + ", ".join(str(o) for o in list(exc.protected_objects)[:5])
        ) from None
    counts = {"losses": n_losses, "evidence": n_evidence, "claims": n_claims, "tallies": n_tallies}
    if stdout:
        stdout.write(
            "removed sample data: {losses} losses, {evidence} evidence, {claims} claims, "
            "{tallies} tallies\n".format(**counts)
        )
    return counts
