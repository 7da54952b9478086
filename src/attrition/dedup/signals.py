"""The signals that two losses are (or are not) one physical item; weights in dedup.scoring."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from attrition.losses.choices import DatePrecision, Fate, PlacePrecision
from attrition.losses.models import Loss
from attrition.territory.models import AdminUnit

# Log-odds contributions; the table in dedup.scoring's docstring explains each one.
SHARED_FILE, SHARED_POST, TOLD_APART = 3.0, 1.5, -3.0
MATCH_AUTO, MATCH_VERIFIED, MATCH_SUGGESTED = 2.5, 2.5, 1.0
PDQ_AUTO_MAX, PDQ_SUGGESTED_MAX = 31, 63
MODEL_SAME, MODEL_VARIANT, MODEL_OTHER_CATEGORY = 0.7, -0.5, -3.0
MARKINGS_SAME, MARKINGS_DIFFERENT = 4.0, -4.0
PLACE_FAR, PLACE_TAPER_KM, PLACE_FAR_KM = -1.0, 50.0, 150.0
TIME_FAR, TIME_TAPER_DAYS, TIME_FAR_DAYS = -1.5, 7, 60
SIDE_DIFFERENT = -4.0
FATES_COMPATIBLE, FATES_CONTRADICTORY = 0.3, -0.7
CAPTOR_SAME, CAPTOR_DIFFERENT = 0.3, -1.5

# Radius (km) within which a place of this precision lies, and the most its agreement is worth.
PLACE_SLACK_KM = {
    PlacePrecision.EXACT: 0.1,
    PlacePrecision.APPROXIMATE: 5.0,
    PlacePrecision.SETTLEMENT: 10.0,
    PlacePrecision.DISTRICT: 30.0,
    PlacePrecision.PROVINCE: 150.0,
    PlacePrecision.UNKNOWN: 25.0,
}
PLACE_BOOST = {
    PlacePrecision.EXACT: 1.0,
    PlacePrecision.APPROXIMATE: 1.0,
    PlacePrecision.SETTLEMENT: 0.7,
    PlacePrecision.DISTRICT: 0.3,
    PlacePrecision.PROVINCE: 0.0,
    PlacePrecision.UNKNOWN: 0.3,
}
# Half-width (days) of the uncertainty of a date of this precision, and its agreement's worth.
DATE_SLACK_DAYS = {DatePrecision.DAY: 1, DatePrecision.MONTH: 15, DatePrecision.YEAR: 182}
TIME_BOOST = {DatePrecision.DAY: 0.8, DatePrecision.MONTH: 0.3, DatePrecision.YEAR: 0.0}

# Cyrillic letters that look like Latin ones (after casefolding), as hull numbers mix them.
LOOKALIKES = str.maketrans("авекмнорстх", "abekmhopctx")
MARKING_SEPARATORS = re.compile(r"[,;/|\n]+")
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Signal:
    """One compared attribute: what was compared, its most weight, and its signed contribution."""

    name: str
    value: str
    weight: float
    contribution: float


@dataclass(frozen=True)
class MediaEvidence:
    """What media matching found between two losses (computed elsewhere, passed in)."""

    # Archived files (captures) that depict both, at the same moment for a video.
    shared_captures: int = 0
    # (capture_a, capture_b, PDQ bits) near-duplicate pairs; -1 bits for a tier-2 verified pair.
    matched: Sequence[tuple[int, int, int]] = ()
    # Posts (or videos at different moments) that show both without pinning them to one frame.
    shared_posts: int = 0
    # Shared files or posts whose two depictions differ in item number or region: two items.
    told_apart: int = 0
    # False when near-duplicates were not looked for, so that "none" is not claimed.
    near_checked: bool = True


def media_signals(media: MediaEvidence | None) -> tuple[Signal, Signal]:
    """Return the "same media" and "matched media" signals."""
    if media is None:
        return (
            Signal("same media", "not checked", SHARED_FILE, 0.0),
            Signal("matched media", "not checked", MATCH_AUTO, 0.0),
        )
    if media.told_apart:
        where = _count(media.told_apart, "shared file or post", "shared files or posts")
        same = Signal("same media", f"shown as different items in {where}", SHARED_FILE, TOLD_APART)
    elif media.shared_captures:
        text = f"both in {_count(media.shared_captures, 'archived file')}"
        same = Signal("same media", text, SHARED_FILE, SHARED_FILE)
    elif media.shared_posts:
        text = f"both in {_count(media.shared_posts, 'post')}, not pinned to one file"
        same = Signal("same media", text, SHARED_FILE, SHARED_POST)
    else:
        same = Signal("same media", "no shared file or post", SHARED_FILE, 0.0)
    return same, _matched_signal(media)


def _matched_signal(media: MediaEvidence) -> Signal:
    """Return the "matched media" signal from the best near-duplicate pair."""
    pairs = [p for p in media.matched if p[2] <= PDQ_SUGGESTED_MAX]
    if not pairs:
        text = "no near-duplicate pair" if media.near_checked else "not checked"
        return Signal("matched media", text, MATCH_AUTO, 0.0)
    verified = [p for p in pairs if p[2] < 0]
    best = verified[0] if verified else min(pairs, key=lambda p: p[2])
    a, b, bits = best
    if bits < 0:
        text, contribution = f"capture #{a} ~ #{b}, verified by local features", MATCH_VERIFIED
    elif bits <= PDQ_AUTO_MAX:
        text, contribution = f"capture #{a} ~ #{b}, PDQ {bits} bits apart", MATCH_AUTO
    else:
        text = f"capture #{a} ~ #{b}, PDQ {bits} bits apart (review band)"
        contribution = MATCH_SUGGESTED
    if len(pairs) > 1:
        text += f" (+{len(pairs) - 1} more)"
    return Signal("matched media", text, MATCH_AUTO, contribution)


def model_signal(a: Loss, b: Loss) -> Signal:
    """Return the "model" signal: same model, a variant in the same category, or another class."""
    weight = -MODEL_OTHER_CATEGORY
    if a.model_id == b.model_id:
        return Signal("model", f"{a.model.name}, both", weight, MODEL_SAME)
    text = f"{a.model.name} vs {b.model.name}"
    if a.model.category_id == b.model.category_id:
        return Signal("model", f"{text} (same category)", weight, MODEL_VARIANT)
    return Signal("model", f"{text} (different categories)", weight, MODEL_OTHER_CATEGORY)


def markings_normalised(text: str) -> set[str]:
    """Return the hull, tail or registration numbers in `text`, folded for comparison."""
    found = set()
    for part in MARKING_SEPARATORS.split(unicodedata.normalize("NFKC", text)):
        folded = "".join(ch for ch in part.casefold().translate(LOOKALIKES) if ch.isalnum())
        if folded:
            found.add(folded.upper())
    return found


def markings_signal(a: Loss, b: Loss) -> Signal:
    """Return the "markings" signal: equal numbers nearly settle it, different ones nearly veto."""
    weight = MARKINGS_SAME
    ma, mb = markings_normalised(a.markings), markings_normalised(b.markings)
    if not ma or not mb:
        return Signal("markings", "not known for both", weight, 0.0)
    text = f'"{_clip(a.markings)}" vs "{_clip(b.markings)}"'
    common = ma & mb
    if common:
        return Signal("markings", f"{text} (same: {', '.join(sorted(common))})", weight, weight)
    return Signal("markings", f"{text} (different)", weight, MARKINGS_DIFFERENT)


def place_signal(a: Loss, b: Loss) -> Signal:
    """Return the "place" signal: distance against the coarser precision, or admin units."""
    weight = PLACE_BOOST[PlacePrecision.EXACT]
    pa, pb = _located(a), _located(b)
    if pa is not None and pb is not None:
        km = haversine_km(pa[0], pa[1], pb[0], pb[1])
        slack = PLACE_SLACK_KM[pa[2]] + PLACE_SLACK_KM[pb[2]]
        boost = min(PLACE_BOOST[pa[2]], PLACE_BOOST[pb[2]])
        contribution = _taper(km - slack, boost, PLACE_TAPER_KM, PLACE_FAR_KM, PLACE_FAR)
        text = f"{km:.1f} km apart ({pa[2]} vs {pb[2]})"
        return Signal("place", text, weight, round(contribution, 3))
    ua, ub = a.admin_unit, b.admin_unit
    if ua is None or ub is None:
        return Signal("place", "not known for both", weight, 0.0)
    if ua.pk == ub.pk:
        boost = PLACE_BOOST[_unit_precision(ua)]
        return Signal("place", f"both in {ua.name}", weight, boost)
    prov_a, prov_b = _province_id(ua), _province_id(ub)
    if prov_a is not None and prov_a == prov_b:
        return Signal("place", f"{ua.name} vs {ub.name}, same province", weight, 0.0)
    return Signal("place", f"{ua.name} vs {ub.name}, different provinces", weight, PLACE_FAR / 2)


def haversine_km(lat_a: float, lon_a: float, lat_b: float, lon_b: float) -> float:
    """Return the great-circle distance between two WGS84 points, in kilometres."""
    phi_a, phi_b = math.radians(lat_a), math.radians(lat_b)
    d_phi, d_lambda = phi_b - phi_a, math.radians(lon_b - lon_a)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi_a) * math.cos(phi_b) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def time_signal(a: Loss, b: Loss) -> Signal:
    """Return the "time" signal: days between first sightings beyond both dates' uncertainty."""
    weight = -TIME_FAR
    if a.first_seen is None or b.first_seen is None:
        return Signal("time", "not known for both", weight, 0.0)
    prec_a, prec_b = date_precision(a), date_precision(b)
    days = abs((a.first_seen - b.first_seen).days)
    slack = DATE_SLACK_DAYS[prec_a] + DATE_SLACK_DAYS[prec_b]
    boost = min(TIME_BOOST[prec_a], TIME_BOOST[prec_b])
    contribution = _taper(days - slack, boost, TIME_TAPER_DAYS, TIME_FAR_DAYS, TIME_FAR)
    text = f"{_count(days, 'day')} apart ({prec_a} vs {prec_b} precision)"
    return Signal("time", text, weight, round(contribution, 3))


def side_signal(a: Loss, b: Loss) -> Signal:
    """Return the "side" signal: losses of different sides are different records."""
    if a.side_id == b.side_id:
        return Signal("side", f"{a.side.short_name}, both", -SIDE_DIFFERENT, 0.0)
    text = f"{a.side.short_name} vs {b.side.short_name}"
    return Signal("side", text, -SIDE_DIFFERENT, SIDE_DIFFERENT)


def captor_signal(a: Loss, b: Loss) -> Signal:
    """Return the "captor" signal: both captured, by the same side or by different ones."""
    weight = -CAPTOR_DIFFERENT
    if a.captured_by_id is None or b.captured_by_id is None:
        return Signal("captor", "not known for both", weight, 0.0)
    if a.captured_by_id == b.captured_by_id:
        return Signal("captor", f"{_side_name(a.captured_by)}, both", weight, CAPTOR_SAME)
    text = f"{_side_name(a.captured_by)} vs {_side_name(b.captured_by)}"
    return Signal("captor", text, weight, CAPTOR_DIFFERENT)


def fates_signal(a: Loss, b: Loss) -> Signal:
    """Return the "fates" signal: one story extends the other, or it was destroyed then seen not."""
    weight = -FATES_CONTRADICTORY
    fa, fb = _fates(a), _fates(b)
    text = f"{' > '.join(fa)} vs {' > '.join(fb)}"
    if _is_subsequence(fa, fb) or _is_subsequence(fb, fa):
        return Signal("fates", f"{text} (compatible)", weight, FATES_COMPATIBLE)
    if a.first_seen and b.first_seen and a.first_seen != b.first_seen:
        earlier, later = (fa, fb) if a.first_seen < b.first_seen else (fb, fa)
        if earlier[-1] == Fate.DESTROYED and Fate.DESTROYED not in later:
            return Signal(
                "fates", f"{text} (destroyed, then seen not)", weight, FATES_CONTRADICTORY
            )
    return Signal("fates", f"{text} (different)", weight, 0.0)


def _taper(excess: float, boost: float, taper: float, far: float, worst: float) -> float:
    """Return `boost` within the slack, fading to 0 over `taper`, then to `worst` over `far`."""
    if excess <= 0:
        return boost
    if excess <= taper:
        return boost * (1 - excess / taper)
    return worst * min(1.0, (excess - taper) / far)


def _located(loss: Loss) -> tuple[float, float, PlacePrecision] | None:
    """Return (lat, lon, precision) from the loss's point, else its admin unit's label point."""
    if loss.lat is not None and loss.lon is not None:
        return loss.lat, loss.lon, _place_precision(loss.place_precision)
    unit = loss.admin_unit
    if unit is not None and unit.label_lat is not None and unit.label_lon is not None:
        return unit.label_lat, unit.label_lon, _unit_precision(unit)
    return None


def _place_precision(value: str) -> PlacePrecision:
    """Return a stored place precision as the enum, unknown for anything unexpected."""
    return PlacePrecision(value) if value in PlacePrecision.values else PlacePrecision.UNKNOWN


def _unit_precision(unit: AdminUnit) -> PlacePrecision:
    """Return how precise "somewhere in this unit" is."""
    if unit.level == AdminUnit.Level.DISTRICT:
        return PlacePrecision.DISTRICT
    if unit.level == AdminUnit.Level.PROVINCE:
        return PlacePrecision.PROVINCE
    return PlacePrecision.UNKNOWN


def _province_id(unit: AdminUnit) -> int | None:
    """Return the id of the province a unit is or lies in."""
    if unit.level == AdminUnit.Level.PROVINCE:
        return unit.pk
    if unit.level == AdminUnit.Level.DISTRICT:
        return unit.parent_id
    return None


def date_precision(loss: Loss) -> DatePrecision:
    """Return a stored date precision as the enum; an unexpected one counts as a year."""
    value = loss.first_seen_precision
    return DatePrecision(value) if value in DatePrecision.values else DatePrecision.YEAR


def _fates(loss: Loss) -> list[str]:
    """Return the loss's fates in the order they happened."""
    history: Any = loss.fate_history or []
    fates = [str(e["fate"]) for e in history if isinstance(e, dict) and e.get("fate")]
    return fates or [str(loss.fate)]


def _is_subsequence(short: Sequence[str], long: Sequence[str]) -> bool:
    """Return whether `short` appears in `long` in order, perhaps with gaps."""
    rest = iter(long)
    return all(any(item == other for other in rest) for item in short)


def _side_name(side: Any) -> str:
    """Return a side's short name, or a dash."""
    return str(side.short_name) if side is not None else "-"


def _clip(text: str, size: int = 40) -> str:
    """Return `text` on one line, cut to `size` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[: size - 1] + "…"


def _count(n: int, noun: str, plural: str = "") -> str:
    """Return "1 day" or "3 days"."""
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"
