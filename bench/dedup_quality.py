"""Benchmark media dedup: recall per transform for tier 1 (PDQ) and tiers 1+2, false links, cost.

Usage: python bench/dedup_quality.py [--candidates 200] [--repeat 5] [--only quality|cost]
Builds the corpus of `dedup_corpus` (scikit-image's photographs, reposted copies, hard negatives).
Tier 1 links a copy to a stored photo when one of the copy's 8 dihedral PDQ hashes lies within
31 bits of the stored hash; tiers 1+2 also link it when `verify_many` over every stored photo,
with the copy's features or their mirror, says `same`. "As capture links" is what the capture
step auto-links: a still only when tier 2 says `same` (a PDQ hit alone goes to review). Every
copy is checked against every stored photo, so each copy is a positive once and an unrelated
pair 15 times; the hard negatives are checked the same way, both queries. Then the cost, pinned
to one core: feature extraction per 1 MP image, `verify_many` against N candidates of 1 MP, and
bytes stored per item. Prints progress, then markdown tables to paste into bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import io
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import cv2
import faiss
import numpy as np
from dedup_corpus import (
    GROUPS,
    PHOTOS,
    STEREO,
    TRANSFORMS,
    clutter,
    copies,
    hard_negatives,
    originals,
)
from PIL import Image

from attrition.capture.steps.pdq import canonical_image, distance, hash_dihedral, hash_image
from attrition.dedup.features import (
    SAME_INLIERS,
    SAME_PHOTOMETRIC,
    SAME_RATIO,
    Features,
    Verdict,
    extract,
    extract_mirrored,
    from_bytes,
    normalise,
    to_bytes,
    verify,
    verify_many,
)

NEAR = 31  # tier 1's auto-link threshold, bits
TILE = (384, 288)  # a mosaic of 3 x 3 tiles is 1 MP of detail at the photos' own resolution
TARGETS = {  # group -> (tier 1 target, tiers 1+2 target), from the issue
    "re-encode": (0.95, None),
    "resize": (0.95, None),
    "grayscale": (0.95, None),
    "border/letterbox": (0.9, None),
    "flip": (0.8, 0.9),
    "rotation": (None, 0.9),
    "crop": (None, 0.9),
    "screenshot": (None, 0.9),
}


@dataclass
class Item:
    """One image as the index holds it: PDQ hashes and features (and the mirror's, for queries)."""

    hashes: tuple[str, ...]
    feats: Features
    mirrored: Features


@dataclass
class Tally:
    """Counts for one row of a table."""

    n: int = 0
    tier1: int = 0
    tier12: int = 0
    suggested: int = 0
    linked: int = 0  # as the capture step links stills: only when tier 2 says the same
    missed: list[str] = field(default_factory=list)  # by both tiers
    missed1: list[str] = field(default_factory=list)  # by tier 1


def index(img: Image.Image) -> Item:
    """Return an image's hashes (8 dihedral) and features (as is and mirrored)."""
    canon = canonical_image(img)
    return Item(tuple(h.hex for h in hash_dihedral(canon)), extract(img), extract_mirrored(img))


def archived(img: Image.Image) -> Item:
    """Return an image as the index stores it: one PDQ hash, features read back from bytes."""
    feats = from_bytes(to_bytes(extract(img)))
    return Item((hash_image(canonical_image(img)).hex,), feats, feats)


def tier1(query: Item, stored: Item) -> bool:
    """Return whether one of the query's dihedral hashes is within NEAR bits of the stored one."""
    return min(distance(h, stored.hashes[0]) for h in query.hashes) <= NEAR


def tier2(query: Item, stored: list[Item]) -> list[Verdict]:
    """Return the better verdict per stored item, of the query's features and their mirror."""
    direct = verify_many(query.feats, [s.feats for s in stored])
    mirror = verify_many(query.mirrored, [s.feats for s in stored])
    pairs = zip(direct, mirror, strict=True)
    return [max(a, b, key=lambda v: (v.same, v.suggest, v.inliers)) for a, b in pairs]


@dataclass
class Run:
    """The quality benchmark's tallies, false links and photometric margins."""

    positives: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    negatives: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    false_links: list[str] = field(default_factory=list)
    false_linked: list[str] = field(default_factory=list)  # as the capture step links
    linked: list[tuple[float, str]] = field(default_factory=list)  # photometric of tier-2 links
    fitted: list[tuple[float, str]] = field(default_factory=list)  # of unrelated geometric fits

    def positive(self, transform: str, name: str, t1: bool, v: Verdict) -> None:
        """Count one copy checked against its own photo."""
        row = self.positives[transform]
        row.n, row.tier1, row.tier12 = row.n + 1, row.tier1 + t1, row.tier12 + (t1 or v.same)
        row.suggested += not (t1 or v.same) and v.suggest
        row.linked += v.same
        row.missed1 += [] if t1 else [name]
        row.missed += [] if t1 or v.same else [name]
        if v.same and v.photometric is not None:
            self.linked.append((v.photometric, f"{name} {transform}"))

    def negative(self, kind: str, label: str, t1: bool, v: Verdict) -> None:
        """Count one unrelated pair, and a false link if either tier linked it."""
        row = self.negatives[kind]
        row.n, row.tier1, row.tier12 = row.n + 1, row.tier1 + t1, row.tier12 + (t1 or v.same)
        row.suggested += not (t1 or v.same) and v.suggest
        row.linked += v.same
        if t1 or v.same:
            self.false_links.append(f"{label} (tier {'1' if t1 else '2'})")
        if v.same:
            self.false_linked.append(label)
        geometric = v.inliers >= SAME_INLIERS and v.inlier_ratio >= SAME_RATIO
        if geometric and v.photometric is not None:
            self.fitted.append((v.photometric, label))


def quality() -> Run:
    """Return the tallies of every copy against every stored photo, and of the hard negatives."""
    t0 = time.perf_counter()
    photos = originals()
    reposts = copies(photos)
    hard = hard_negatives(photos, reposts)
    cache: dict[int, Item] = {}

    def item(img: Image.Image) -> Item:
        if id(img) not in cache:
            cache[id(img)] = index(img)
        return cache[id(img)]

    stored = {name: archived(img) for name, img in photos.items()}
    run = Run()
    for i, copy in enumerate(reposts):
        query = item(copy.image)
        verdicts = tier2(query, list(stored.values()))
        for (name, s), v in zip(stored.items(), verdicts, strict=True):
            if name == copy.photo:
                run.positive(copy.transform, name, tier1(query, s), v)
            else:
                kind = "stereo pair" if {name, copy.photo} == set(STEREO) else "unrelated photos"
                run.negative(kind, f"{copy.photo} {copy.transform} vs {name}", tier1(query, s), v)
        if i % 50 == 49:
            elapsed = time.perf_counter() - t0
            print(f"checked {i + 1}/{len(reposts)} copies ({elapsed:.0f} s)", file=sys.stderr)
    for kind, label, a, b in hard:
        qa, sb = item(a), archived(b)
        run.negative(kind, f"{kind}: {label}", tier1(qa, sb), tier2(qa, [sb])[0])
    print(f"checked {len(hard)} hard pairs ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return run


@contextmanager
def one_core() -> Iterator[None]:
    """Pin this process to one CPU, with OpenCV and faiss single-threaded."""
    before, threads = os.sched_getaffinity(0), cv2.getNumThreads()
    os.sched_setaffinity(0, {min(before)})
    cv2.setNumThreads(1)
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)
        cv2.setNumThreads(threads)
        faiss.omp_set_num_threads(len(before))


def mosaic(photos: list[Image.Image], seed: int) -> Image.Image:
    """Return a 1 MP image (1,152 x 864) of 3 x 3 random crops of the photos at their own scale."""
    rng = np.random.default_rng(seed)
    out = Image.new("RGB", (3 * TILE[0], 3 * TILE[1]))
    for i in range(9):
        img = photos[int(rng.integers(len(photos)))]
        x, y = (
            int(rng.integers(0, side - tile + 1)) for side, tile in zip(img.size, TILE, strict=True)
        )
        out.paste(img.crop((x, y, x + TILE[0], y + TILE[1])), (i % 3 * TILE[0], i // 3 * TILE[1]))
    return out


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Return the median seconds of `repeat` runs of fn after one warm-up."""
    fn()
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def cost(candidates: int, repeat: int) -> dict[str, str]:
    """Return the cost figures: extraction, verification against candidates, bytes per item."""
    photos = list(originals().values())
    mosaics = [mosaic(photos, i) for i in range(candidates)]
    big = io.BytesIO()
    mosaics[0].resize((4000, 3000), Image.Resampling.LANCZOS).save(big, "JPEG", quality=90)
    out: dict[str, str] = {}
    with one_core():
        sample = mosaics[:12]
        per = timed(lambda: [extract(img) for img in sample], repeat) / len(sample)
        out["feature extraction, 1 MP photo mosaic"] = f"{per * 1000:.0f} ms ({1 / per:.1f}/s)"
        read = timed(lambda: normalise(Image.open(io.BytesIO(big.getvalue())), mirror=False), 3)
        out["12 MP JPEG file to 1 MP grey (reduced decode), before that"] = f"{read * 1000:.0f} ms"
        shared = [extract(img) for img in mosaics]
        unrelated = [shared[0]] + [extract(clutter(i)) for i in range(1, candidates)]
        query = extract(mosaics[0].rotate(2, Image.Resampling.BICUBIC))
        for label, feats in (
            ("1 match, the rest unrelated", unrelated),
            ("all share photos", shared),
        ):
            many = timed(functools.partial(verify_many, query, feats), repeat)
            out[f"verify_many, {candidates} candidates of 1 MP ({label})"] = f"{many:.2f} s"
        full = timed(lambda: [verify(query, f) for f in unrelated], 1)
        out[f"verify one by one, {candidates} candidates (no quick pass)"] = f"{full:.2f} s"
    out["keypoints per 1 MP item (mean)"] = (
        f"{statistics.mean(len(f.keypoints) for f in shared):,.0f}"
    )
    size = statistics.mean(len(to_bytes(f)) for f in shared)
    out["bytes stored per 1 MP item (mean)"] = f"{size / 1000:.0f} kB"
    both = timed(lambda: [extract(img) for img in mosaics[:12]], 1) / 12
    out[f"feature extraction, 1 MP, {os.cpu_count()} threads"] = f"{both * 1000:.0f} ms"
    return out


def share(part: int, whole: int) -> str:
    """Return part/whole as a fraction with two decimals, and the counts."""
    return f"{part / whole:.2f} ({part}/{whole})" if whole else "-"


def report(run: Run) -> None:
    """Print the quality tables in markdown."""
    print(
        "| transform | tier 1 (PDQ) | tiers 1+2 | as capture links | missed by tier 1 "
        "| by both (suggested) |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for transform in TRANSFORMS:
        row = run.positives[transform]
        missed1 = ", ".join(row.missed1) if len(row.missed1) <= 5 else f"{len(row.missed1)} photos"
        missed = f"{', '.join(row.missed)} ({row.suggested})" if row.missed else "-"
        cells = (
            transform,
            share(row.tier1, row.n),
            share(row.tier12, row.n),
            share(row.linked, row.n),
            missed1 or "-",
        )
        print(f"| {' | '.join(cells)} | {missed} |")
    print("\n| group | tier 1 | target | tiers 1+2 | target | as capture links |")
    print("| --- | --- | --- | --- | --- | --- |")
    for group, transforms in GROUPS.items():
        rows = [run.positives[t] for t in transforms]
        n, t1, t12, linked = (
            sum(getattr(r, a) for r in rows) for a in ("n", "tier1", "tier12", "linked")
        )
        want1, want12 = TARGETS.get(group, (None, None))
        cells = (
            share(t1, n),
            verdict(t1 / n, want1),
            share(t12, n),
            verdict(t12 / n, want12),
            share(linked, n),
        )
        print(f"| {group} | {' | '.join(cells)} |")
    print(
        "\n| unrelated pairs | pairs | tier 1 links | tiers 1+2 links | as capture links "
        "| suggested for review |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for kind, row in sorted(run.negatives.items()):
        counts = (row.tier1, row.tier12, row.linked, row.suggested)
        print(f"| {kind} | {row.n:,} | {' | '.join(str(c) for c in counts)} |")
    total = sum(r.n for r in run.negatives.values())
    print(f"\nFalse auto-links over {total:,} unrelated pairs: {len(run.false_links)}")
    for link in run.false_links:
        print(f"- {link}")
    print(
        f"\nFalse auto-links as the capture step makes them (a PDQ hit between stills is linked "
        f"only when tier 2 confirms it): {len(run.false_linked)}"
    )
    for link in run.false_linked:
        print(f"- {link}")
    low, high = min(run.linked, default=(0.0, "-")), max(run.fitted, default=(0.0, "-"))
    print(f"\nPhotometric agreement (auto-link at >= {SAME_PHOTOMETRIC}): the lowest of a copy")
    print(f"linked by tier 2 {low[0]:.2f} ({low[1]}); the highest of an unrelated pair that passed")
    print(f"the geometric checks {high[0]:.2f} ({high[1]}).")


def verdict(value: float, target: float | None) -> str:
    """Return the target and whether the value meets it."""
    if target is None:
        return "-"
    return f">= {target} {'met' if value >= target else '**missed**'}"


def main() -> None:
    """Run the quality benchmark and the cost benchmark, and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=("quality", "cost"), help="run one half (default: both)")
    args = parser.parse_args()
    run = quality() if args.only != "cost" else None
    figures = cost(args.candidates, args.repeat) if args.only != "quality" else {}
    print(
        f"\n{dt.date.today()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"OpenCV {cv2.__version__}, {len(PHOTOS)} photos x {len(TRANSFORMS)} transforms\n"
    )
    if run is not None:
        report(run)
    if figures:
        print("\n| cost (one core) | figure |\n| --- | --- |")
        for what, figure in figures.items():
            print(f"| {what} | {figure} |")


if __name__ == "__main__":
    main()
