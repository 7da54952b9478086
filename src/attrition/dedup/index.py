"""The media index for tier-1 matching: exact Hamming search over every stored PDQ hash.

Faiss `IndexBinaryFlat` shards hold the 32-byte hashes of still images (`Capture.pdq`) and
sampled video frames (`FrameHash.pdq`), beside one numpy record per row: the row's primary key,
its capture, its time (-1 for a still) and its PDQ quality, 53 bytes per hash in all.
A search is an exact range search (every hash within the radius, no approximation).

Each process (web workers, job workers) holds its own index, loaded from the database at first
use. Before every search it reads the rows stored since (a `max(pk)` per table, then a bounded
range of primary keys when something is new), so a hash any process inserted is matchable at
once. Three things keep it honest without counting tables:
- gaps: a primary key below the high-water mark that is missing may belong to a transaction
  still in flight (PostgreSQL hands out keys before commit), so missing keys are looked for
  again on every sync for GAP_TTL_S;
- provisional rows: rows read inside a transaction may be that transaction's own, and vanish on
  rollback (SQLite then reuses their keys): the newest PROVISIONAL_MAX are re-read until seen
  outside a transaction or GAP_TTL_S passes, and a changed one means a rebuild;
- every hit is checked against the database before it is returned: a row that is gone or changed
  means a rebuild and the search is run again (captures are never deleted, so this is rare);
  a provisional row another thread's transaction has not committed yet is left out.
One lock serialises sync and search within a process; faiss releases the GIL while it scans.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import NamedTuple

import faiss
import numpy as np
from django.db import transaction
from django.db.models import Max, Q
from numpy.typing import NDArray

from attrition.capture.steps.pdq import DIHEDRAL, QUALITY_FLOOR
from attrition.evidence.models import Capture, FrameHash

log = logging.getLogger(__name__)

# Distances, in bits of 256. Auto-linking at <= 31 follows PDQ's usual threshold (no unrelated
# pair came closer than 84 bits while designing); SUGGEST bounds the review band (32-63) and both
# are to be tuned on the benchmark corpus.
AUTO_LINK = 31
SUGGEST = 63
BITS = 256
CODE_BYTES = BITS // 8
CHUNK = 50_000  # rows fetched and added at a time while loading
IN_CHUNK = 500  # keys per `pk IN (...)`: well under SQLite's bound on query parameters
GAP_TTL_S = 300.0  # how long a missing key or a provisional row is looked at again
MAX_GAPS = 64  # gap ranges kept per table, newest first
PROVISIONAL_MAX = 2_000  # rows read in a transaction held provisional per table, newest
# Rows per faiss index: a batch of queries (8 dihedral hashes, a video's frames) is then scanned
# shard by shard while each is in cache, and growing never copies the whole index (~2x faster per
# query for 8 queries at 10M hashes, measured on 2 cores).
SHARD = 1 << 19
STILL, FRAME = "still", "frame"
# One record per faiss row: `pk` is Capture's for a still and FrameHash's for a frame.
RECORD = np.dtype([("pk", np.int64), ("capture", np.int64), ("t_ms", np.int32), ("quality", "u1")])

Row = tuple[int, int, int, str, int | None]  # pk, capture id, t_ms (-1: a still), hex, quality


class Hit(NamedTuple):
    """A stored hash within the radius of query hash number `query_index`."""

    capture_id: int
    t_ms: int | None  # None for a still image
    distance: int
    query_index: int
    trusted: bool  # both hashes had PDQ quality >= QUALITY_FLOOR


@dataclass(frozen=True)
class ImageMatch:
    """The closest hash of another capture to an image: a still, or a frame at `t_ms`."""

    capture_id: int
    distance: int
    variant: str  # which of the query's DIHEDRAL hashes matched
    t_ms: int | None
    trusted: bool

    @property
    def auto_link(self) -> bool:
        """Return whether the match is close and trusted enough to be linked without review."""
        return self.trusted and self.distance <= AUTO_LINK


class Stale(Exception):
    """The index holds a row the database no longer has as it was read."""


@dataclass
class Table:
    """What the index has read of one table: its high-water mark, gaps and provisional rows."""

    name: str
    hwm: int = 0
    gaps: list[tuple[int, int, float]] = field(default_factory=list)  # lo, hi, first seen
    provisional: dict[int, tuple[Row, float]] = field(default_factory=dict)


def table_rows(name: str, where: Q) -> Iterator[Row]:
    """Yield rows of the captures (stills) or frames table, by primary key, as index rows."""
    if name == STILL:
        stills = Capture.objects.filter(where).values_list("pk", "pdq", "pdq_quality")
        for pk, pdq, q in stills.order_by("pk").iterator(chunk_size=CHUNK):
            yield pk, pk, -1, pdq, q
    else:
        frames = FrameHash.objects.filter(where).order_by("pk")
        fields = ("pk", "capture_id", "t_ms", "pdq", "pdq_quality")
        yield from frames.values_list(*fields).iterator(chunk_size=CHUNK)


def table_top(name: str) -> int:
    """Return the highest primary key of the captures or frames table (0 when empty)."""
    model = Capture if name == STILL else FrameHash
    # max() reads one end of the primary key index, whatever the planner's statistics say.
    return model.objects.aggregate(top=Max("pk"))["top"] or 0


def to_code(value: object) -> bytes | None:
    """Return a hex PDQ hash as its 32 bytes, or None if it is not one."""
    if not isinstance(value, str) or len(value) != 2 * CODE_BYTES:
        return None
    try:
        code = bytes.fromhex(value)
    except ValueError:
        return None
    return code if len(code) == CODE_BYTES else None  # fromhex skips spaces


def parse_hashes(values: Sequence[object]) -> tuple[NDArray[np.uint8], list[int]]:
    """Return the well-formed hashes among `values`, packed (n, 32), and their positions."""
    packed, kept = bytearray(), []
    for i, value in enumerate(values):
        code = to_code(value)
        if code is not None:
            packed += code
            kept.append(i)
    return np.frombuffer(bytes(packed), np.uint8).reshape(-1, CODE_BYTES), kept


def parse_rows(rows: Sequence[Row]) -> tuple[NDArray[np.uint8], list[Row]]:
    """Return the packed hashes of the rows that have one, and those rows; log malformed ones."""
    codes, kept = parse_hashes([row[3] for row in rows])
    good = set(kept)
    bad = [row[0] for i, row in enumerate(rows) if row[3] and i not in good]
    if bad:
        log.warning(
            "media index: skipped %d rows with a malformed PDQ hash, pk %s", len(bad), bad[:20]
        )
    return codes, [rows[i] for i in kept]


def records(rows: Sequence[Row]) -> NDArray[np.void]:
    """Return the index records of rows; a missing quality counts as 0 (untrusted)."""
    return np.array(
        [(pk, capture, t_ms, min(max(q or 0, 0), 100)) for pk, capture, t_ms, _, q in rows],
        dtype=RECORD,
    )


def holes(after: int, pks: Sequence[int], now: float) -> list[tuple[int, int, float]]:
    """Return the ranges of keys missing between `after` and the sorted keys `pks`."""
    gaps, prev = [], after
    for pk in pks:
        if pk > prev + 1:
            gaps.append((prev + 1, pk - 1, now))
        prev = max(prev, pk)
    return gaps


def gaps_without(
    gaps: list[tuple[int, int, float]], found: set[int]
) -> list[tuple[int, int, float]]:
    """Return the gap ranges with the keys that were found taken out."""
    left = []
    for lo, hi, since in gaps:
        inside = sorted(pk for pk in found if lo <= pk <= hi)
        left += [(a, b, since) for a, b, _ in holes(lo - 1, [*inside, hi + 1], since)]
    return left


class MediaIndex:
    """An exact Hamming index of every stored PDQ hash, kept current from the database."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._reset()

    def _reset(self) -> None:
        self._shards: list[faiss.IndexBinaryFlat] = []
        self._records = np.zeros(0, RECORD)
        self._size = 0
        self._tables = {STILL: Table(STILL), FRAME: Table(FRAME)}

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        """Return the memory the hashes and their records take."""
        return self._size * (CODE_BYTES + RECORD.itemsize)

    def reload(self) -> int:
        """Rebuild the index from the database; return how many hashes it holds."""
        with self._lock:
            self._reset()
            self.sync()
            return self._size

    def sync(self) -> int:
        """Load the index at first use, else add the rows stored since; return how many it added."""
        with self._lock:
            try:
                in_tx = not transaction.get_autocommit()
                return sum(self._sync_table(t, in_tx) for t in self._tables.values())
            except Stale as e:
                log.info("media index: rebuilding, %s", e)
                return self.reload()

    def _sync_table(self, table: Table, in_tx: bool) -> int:
        """Read a table's rows the index lacks (gaps first, then past the high-water mark)."""
        now = time.monotonic()
        self._recheck(table, in_tx, now)
        added = 0
        table.gaps = [gap for gap in table.gaps if now - gap[2] < GAP_TTL_S]
        if table.gaps:
            where = Q()
            for lo, hi, _ in table.gaps:
                where |= Q(pk__range=(lo, hi))
            filled = list(table_rows(table.name, where))
            table.gaps = gaps_without(table.gaps, {row[0] for row in filled})
            added += self._absorb(table, filled, in_tx, now)
        top = table_top(table.name)  # bounded: a range query no planner turns into a scan
        rows = table_rows(table.name, Q(pk__gt=table.hwm, pk__lte=top)) if top > table.hwm else None
        while rows is not None and (chunk := list(islice(rows, CHUNK))):
            table.gaps += holes(table.hwm, [row[0] for row in chunk], now)
            table.hwm = chunk[-1][0]
            added += self._absorb(table, chunk, in_tx, now)
        del table.gaps[:-MAX_GAPS]
        for pk in list(islice(table.provisional, max(0, len(table.provisional) - PROVISIONAL_MAX))):
            del table.provisional[pk]  # the oldest: taken as committed
        return added

    def _recheck(self, table: Table, in_tx: bool, now: float) -> None:
        """Re-read the provisional rows: raise Stale if one changed, settle those seen committed."""
        for pk in [pk for pk, (_, since) in table.provisional.items() if now - since >= GAP_TTL_S]:
            del table.provisional[pk]
        pks = list(table.provisional)
        for i in range(0, len(pks), IN_CHUNK):
            for row in list(table_rows(table.name, Q(pk__in=pks[i : i + IN_CHUNK]))):
                if row != table.provisional[row[0]][0]:
                    raise Stale(f"{table.name} row {row[0]} changed")
                if not in_tx:
                    del table.provisional[row[0]]

    def _absorb(self, table: Table, rows: Sequence[Row], in_tx: bool, now: float) -> int:
        """Add the rows that have a well-formed hash; hold them provisional inside a transaction."""
        if in_tx:
            table.provisional.update((row[0], (row, now)) for row in rows[-PROVISIONAL_MAX:])
        codes, good = parse_rows(rows)
        if not good:
            return 0
        end = self._size + len(good)
        if end > len(self._records):
            grown = np.zeros(max(end, 2 * len(self._records), 1024), RECORD)
            grown[: self._size] = self._records[: self._size]
            self._records = grown
        self._records[self._size : end] = records(good)
        self._add_codes(codes)
        self._size = end
        return len(good)

    def search(
        self,
        hashes: Sequence[str],
        radius: int = AUTO_LINK,
        exclude_capture: int | None = None,
        *,
        qualities: Sequence[int | None] | None = None,  # of the queries; None: stored side only
    ) -> list[Hit]:
        """Return the stored hashes within `radius` bits of each query hash, nearest first."""
        if not 0 <= radius < BITS:
            raise ValueError(f"radius must be within 0..{BITS - 1}, not {radius}")
        if qualities is not None and len(qualities) != len(hashes):
            raise ValueError(f"{len(qualities)} qualities for {len(hashes)} hashes")
        codes, kept = parse_hashes(hashes)
        if len(kept) < len(hashes):
            log.warning("media index: %d malformed query hashes skipped", len(hashes) - len(kept))
        if not kept:
            return []
        with self._lock:
            self.sync()
            try:
                found = self._verified(*self._range(codes, radius, exclude_capture), strict=True)
            except Stale as e:
                log.info("media index: rebuilding, %s", e)
                self.reload()
                found = self._verified(*self._range(codes, radius, exclude_capture), strict=False)
        query_ok = [q is None or q >= QUALITY_FLOOR for q in (qualities or [None] * len(hashes))]
        hits = [
            Hit(
                capture_id=int(rec["capture"]),
                t_ms=None if rec["t_ms"] < 0 else int(rec["t_ms"]),
                distance=int(d),
                query_index=kept[int(q)],
                trusted=bool(rec["quality"] >= QUALITY_FLOOR) and query_ok[kept[int(q)]],
            )
            for q, rec, d in zip(*found, strict=True)
        ]
        return sorted(hits, key=lambda h: (h.query_index, h.distance, h.capture_id, h.t_ms or 0))

    def _range(
        self, codes: NDArray[np.uint8], radius: int, exclude_capture: int | None
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """Return (query number, row, distance) of each hash within the radius, shard by shard."""
        parts = [(np.zeros(0, np.int64),) * 3]
        for n, shard in enumerate(self._shards):
            lims, dist, rows = shard.range_search(codes, radius + 1)  # faiss keeps d < radius
            queries = np.repeat(np.arange(len(codes)), np.diff(lims.astype(np.int64)))
            parts.append((queries, rows.astype(np.int64) + n * SHARD, dist.astype(np.int64)))
        queries, rows, dist = (np.concatenate([part[i] for part in parts]) for i in range(3))
        if exclude_capture is not None:
            keep = self._records["capture"][rows] != exclude_capture
            queries, rows, dist = queries[keep], rows[keep], dist[keep]
        return queries, rows, dist

    def _add_codes(self, codes: NDArray[np.uint8]) -> None:
        """Append packed hashes to the last shard, opening a new one each SHARD rows."""
        done = 0
        while done < len(codes):
            if not self._shards or self._shards[-1].ntotal >= SHARD:
                self._shards.append(faiss.IndexBinaryFlat(BITS))
            take = min(SHARD - self._shards[-1].ntotal, len(codes) - done)
            self._shards[-1].add(codes[done : done + take])
            done += take

    def _verified(
        self,
        queries: NDArray[np.int64],
        rows: NDArray[np.int64],
        dist: NDArray[np.int64],
        *,
        strict: bool,
    ) -> tuple[NDArray[np.int64], NDArray[np.void], NDArray[np.int64]]:
        """Return the hits whose rows the database holds as indexed; raise Stale if strict."""
        unique = np.unique(rows)
        present = np.zeros(len(unique), bool)
        still = self._records["t_ms"][unique] < 0
        for name, chosen in ((STILL, np.flatnonzero(still)), (FRAME, np.flatnonzero(~still))):
            if len(chosen):
                present[chosen] = self._check_rows(self._tables[name], unique[chosen], strict)
        keep = present[np.searchsorted(unique, rows)]
        return queries[keep], self._records[rows[keep]], dist[keep]

    def _check_rows(self, table: Table, rows: NDArray[np.int64], strict: bool) -> NDArray[np.bool_]:
        """Return, per faiss row of one table, whether the database still holds it as indexed."""
        pks = [int(pk) for pk in self._records["pk"][rows]]
        current: dict[int, Row] = {}
        for i in range(0, len(pks), IN_CHUNK):
            chunk = table_rows(table.name, Q(pk__in=pks[i : i + IN_CHUNK]))
            current.update((row[0], row) for row in chunk)
        ok = np.zeros(len(rows), bool)
        for n, (row, pk) in enumerate(zip(rows, pks, strict=True)):
            now = current.get(pk)
            if now is None and pk in table.provisional:
                continue  # another transaction's row, not committed (yet): left out
            rec = self._records[row]
            ok[n] = (
                now is not None
                and (now[1], now[2]) == (int(rec["capture"]), int(rec["t_ms"]))
                and to_code(now[3]) == self._code(int(row))
            )
            if not ok[n] and strict:
                raise Stale(f"{table.name} row {pk} is gone or changed")
        return ok

    def _code(self, row: int) -> bytes:
        """Return the packed hash held at a faiss row."""
        return bytes(self._shards[row // SHARD].reconstruct(row % SHARD).tobytes())

    def nearest(
        self,
        hash: str,
        k: int = 10,
        *,
        radius: int = SUGGEST,
        quality: int | None = None,
        exclude_capture: int | None = None,
    ) -> list[Hit]:
        """Return the k stored hashes nearest to one hash, within `radius` (the review band)."""
        hits = self.search([hash], radius, exclude_capture, qualities=[quality])
        return sorted(hits, key=lambda h: (h.distance, h.capture_id))[:k]


def match_image(
    hashes: Sequence[str],
    *,
    quality: int | None,
    exclude_capture: int | None = None,
    radius: int = SUGGEST,
    index: MediaIndex | None = None,
) -> list[ImageMatch]:
    """Return the best match per other capture of an image's hashes, given in DIHEDRAL order."""
    if len(hashes) > len(DIHEDRAL):
        raise ValueError(f"at most {len(DIHEDRAL)} hashes (DIHEDRAL order), not {len(hashes)}")
    hits = (index or media_index()).search(
        hashes, radius, exclude_capture, qualities=[quality] * len(hashes)
    )
    best: dict[int, Hit] = {}
    for hit in hits:
        held = best.get(hit.capture_id)
        if held is None or rank(hit) < rank(held):
            best[hit.capture_id] = hit
    matches = [
        ImageMatch(h.capture_id, h.distance, DIHEDRAL[h.query_index], h.t_ms, h.trusted)
        for h in best.values()
    ]
    return sorted(matches, key=lambda m: (not m.trusted, m.distance, m.capture_id))


def rank(hit: Hit) -> tuple[bool, int, int]:
    """Return a sort key for hits: trusted first, then nearest, then the unflipped variant."""
    return (not hit.trusted, hit.distance, hit.query_index)


_index: MediaIndex | None = None
_index_lock = threading.Lock()


def media_index() -> MediaIndex:
    """Return this process's media index (built lazily; a forked child builds its own)."""
    global _index
    with _index_lock:
        if _index is None:
            _index = MediaIndex()
        return _index


def _forget_after_fork() -> None:
    """Drop the parent's index and lock in a forked child, which loads its own at first use."""
    global _index, _index_lock
    _index, _index_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
