"""Benchmark the media index: exact radius-31 search over N packed PDQ hashes, faiss vs numpy.

Usage: python bench/dedup_index.py [--sizes 100000,1000000,10000000] [--queries 200]
                                   [--db-rows 1000000]
Random 256-bit hashes, plus planted near-duplicates (each query is a stored hash with 0-31 bits
flipped), so recall of the exact search must be 1.0. Per size: p50/p99 latency of one query's
`IndexBinaryFlat.range_search` on ONE thread, of an 8-hash (dihedral) query, and of a plain
numpy scan (xor + popcount) over the same packed data, whose results must equal faiss's. Then
(unless --db-rows 0) the MediaIndex loaded from a fresh SQLite database (DATABASE_URL: give it an
empty database of its own) of that many rows, a quarter stills and the rest video frames, and
its end-to-end search (sync queries, range search and hit check) on the same one thread.
Prints markdown tables to paste into bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import faiss
import numpy as np
from instance import instance_setup
from numpy.typing import NDArray

RADIUS = 31
SEED = 20261125


def rss_mb() -> float:
    """Return the resident memory of this process, in MB."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def corpus(n: int, queries: int) -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.int64]]:
    """Return n random packed hashes, query hashes near some of them, and which one each is near."""
    rng = np.random.default_rng(SEED)
    data = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    planted = rng.choice(n, queries, replace=False).astype(np.int64)
    bits = np.unpackbits(data[planted], axis=1)
    for row, flips in zip(bits, rng.integers(0, RADIUS + 1, queries), strict=True):
        row[rng.choice(256, flips, replace=False)] ^= 1
    return data, np.packbits(bits, axis=1), planted


def numpy_scan(words: NDArray[np.uint64], query: NDArray[np.uint8]) -> NDArray[np.int64]:
    """Return the rows within RADIUS bits of a query: xor and popcount, in cache-sized chunks."""
    q = query.view(np.uint64)
    found = []
    for start in range(0, len(words), 1 << 16):
        block = words[start : start + (1 << 16)]
        dist = np.bitwise_count(np.bitwise_xor(block, q)).sum(axis=1, dtype=np.uint16)
        found.append(np.flatnonzero(dist <= RADIUS) + start)
    return np.concatenate(found)


def timed(run: Callable[[int], object], count: int) -> list[float]:
    """Return the wall time of run(i) for i in range(count), in milliseconds."""
    times = []
    for i in range(count):
        started = time.perf_counter()
        run(i)
        times.append((time.perf_counter() - started) * 1000)
    return times


def pcts(times: list[float]) -> str:
    """Return 'p50 / p99' of times in ms."""
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return f"{statistics.median(times):.3g} / {cuts[98]:.3g} ms"


def one_size(n: int, queries: int) -> list[str]:
    """Return the markdown row of one corpus size, after checking recall and agreement."""
    from attrition.dedup.index import SHARD

    data, probes, planted = corpus(n, queries)
    before = rss_mb()
    index = faiss.IndexBinaryFlat(256)
    index.add(data)
    faiss_mb = rss_mb() - before
    results: list[NDArray[np.int64]] = []

    def search(i: int) -> None:
        _, _, rows = index.range_search(probes[i : i + 1], RADIUS + 1)  # faiss keeps d < radius
        results.append(rows)

    index.range_search(probes[:1], RADIUS + 1)  # warm-up
    single = timed(search, queries)
    found = sum(int(p in r) for p, r in zip(planted, results, strict=True))
    groups = probes[: queries // 8 * 8].reshape(-1, 8, 32)
    dihedral = timed(lambda i: index.range_search(groups[i], RADIUS + 1), len(groups))
    shards = []
    for start in range(0, n, SHARD):
        shards.append(faiss.IndexBinaryFlat(256))
        shards[-1].add(data[start : start + SHARD])
    sharded = timed(lambda i: [s.range_search(groups[i], RADIUS + 1) for s in shards], len(groups))
    words = data.view(np.uint64)
    scans = max(5, min(queries, 20_000_000 // n))
    scanned: list[NDArray[np.int64]] = []
    plain = timed(lambda i: scanned.append(numpy_scan(words, probes[i])), scans)
    agree = all(
        np.array_equal(np.sort(a), np.sort(b)) for a, b in zip(scanned, results, strict=False)
    )
    print(f"  {n:,}: recall {found}/{queries}, numpy agrees on {scans}: {agree}", flush=True)
    if found != queries or not agree:
        raise SystemExit(f"{n:,} hashes: the exact search missed a planted near-duplicate")
    return [
        f"| {n:,} | {pcts(single)} | {pcts(dihedral)} | {pcts(sharded)} "
        f"| {pcts(plain)} ({scans} queries) "
        f"| {found / queries:.2f} | {faiss_mb / n * 1e6:.0f} B |"
    ]


def db_rows(n: int) -> None:
    """Insert n rows: a quarter as image captures with a hash, the rest as 30-frame videos."""
    from django.db import transaction

    from attrition.evidence.models import Capture, FrameHash

    rng = np.random.default_rng(SEED + 1)
    stills, videos = n // 4, (n - n // 4) // 30
    hexes = iter(h.tobytes().hex() for h in rng.integers(0, 256, (n, 32), dtype=np.uint8))
    common = {"storage_key": "bench", "mime": "image/jpeg", "size_bytes": 1}
    with transaction.atomic():
        for start in range(0, stills + videos, 10_000):
            batch = []
            for i in range(start, min(start + 10_000, stills + videos)):
                still = i < stills
                kind = Capture.Kind.IMAGE if still else Capture.Kind.VIDEO
                pdq = next(hexes) if still else ""
                sha = f"{i:064x}"
                batch.append(Capture(sha256=sha, kind=kind, pdq=pdq, pdq_quality=90, **common))
            Capture.objects.bulk_create(batch)
        video_ids = Capture.objects.filter(kind=Capture.Kind.VIDEO).values_list("pk", flat=True)
        frames = (
            FrameHash(capture_id=v, t_ms=1000 * t, pdq=next(hexes), pdq_quality=90)
            for v in video_ids.iterator()
            for t in range(30)
        )
        while batch_f := [f for _, f in zip(range(10_000), frames, strict=False)]:
            FrameHash.objects.bulk_create(batch_f)


def database(n: int, queries: int) -> list[str]:
    """Return markdown rows: loading n rows from the database, and end-to-end search on them."""
    from django.db import connection

    from attrition.dedup.index import MediaIndex, match_image
    from attrition.evidence.models import Capture, FrameHash

    started = time.perf_counter()
    db_rows(n)
    print(f"  inserted {n:,} rows in {time.perf_counter() - started:.0f} s", flush=True)
    index = MediaIndex()
    before = rss_mb()
    started = time.perf_counter()
    loaded = index.sync()
    load_s, load_mb = time.perf_counter() - started, rss_mb() - before
    stored = list(Capture.objects.exclude(pdq="").values_list("pdq", flat=True)[:queries])
    stored += list(FrameHash.objects.values_list("pdq", flat=True)[: queries // 2])
    one = timed(lambda i: index.search([stored[i]]), len(stored))
    eight = timed(lambda i: match_image(stored[i : i + 8], quality=90, index=index), 50)
    return [
        f"| load {loaded:,} hashes from {connection.vendor} | {load_s:.1f} s "
        f"| {load_mb / loaded * 1e6:.0f} B/hash RSS ({index.nbytes / loaded:.0f} B held) |",
        f"| `MediaIndex.search`, 1 hash (a hit each) | {pcts(one)} | |",
        f"| `match_image`, 8 hashes | {pcts(eight)} | |",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--db-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    instance_setup()
    faiss.omp_set_num_threads(1)
    print(f"faiss {faiss.__version__}, numpy {np.__version__}, one thread", flush=True)
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        rows += one_size(n, args.queries)
    db = database(args.db_rows, args.queries) if args.db_rows else []
    cpu = platform.processor() or platform.machine()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    python = platform.python_version()
    print(f"\n{os.cpu_count()} cores ({cpu}), load average {load}, Python {python}:\n")
    print("| hashes | faiss range_search, 1 query: p50 / p99 | 8 queries (dihedral) ", end="")
    print("| 8 queries, shards (MediaIndex) | numpy xor+popcount, 1 query ", end="")
    print("| recall | faiss RSS per hash |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    if db:
        print("\n| MediaIndex on the database | time | memory |\n| --- | --- | --- |")
        print("\n".join(db))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
