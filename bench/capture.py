"""Benchmark capturing: whole capture jobs per minute from a loopback server, and hashing per core.

Usage: python bench/capture.py [--images N] [--videos M] [--workers 1,2] [--repeat K]
Uses DATABASE_URL if set (PostgreSQL: give it an empty database), otherwise a fresh SQLite file
in a temporary data dir. Each round captures N photo-like JPEGs of its own and M copies of a 10 s
clip (720p and 480p alternately), served on 127.0.0.1, with W threads running the capture jobs
(fetch to match) as the worker does; K rounds per W after a warm-up round. Then PDQ over the
photos, and frame sampling of a 720p, 480p and 1080p clip, pinned to one core and not. Prints
progress, then markdown tables to paste into bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import multiprocessing
import os
import platform
import queue
import random
import resource
import sqlite3
import statistics
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import av
import numpy as np
from av.video.stream import VideoStream
from instance import instance_setup

if TYPE_CHECKING:
    from tests.loopback import Loopback

ROOT = Path(__file__).resolve().parents[1]
PHOTO_SIZE = (1280, 960)
PHOTO_QUALITY = 95  # a phone's JPEG: ~200-250 kB for these scenes at this size
CLIP_S = 10
CLIP_FPS = 30
# Size and bit rate of web video (an upload as X or Telegram serves it): captured and hashed.
CLIP_SIZES = {"720p": ((1280, 720), 2_500_000), "480p": ((854, 480), 1_200_000)}
HASH_ONLY_SIZES = {"1080p": ((1920, 1080), 5_000_000)}  # hashed only, to compare with DESIGN.md
RUN = os.urandom(4).hex()  # in every variant: a second run on the same database reuses nothing
GRAIN = 6  # +- grey levels of sensor noise per frame: without it x264 makes a cartoon's bit rate
MIN_SAMPLE_S = 1.0  # a PDQ sample hashes the photos over and over for at least this long


@dataclass(frozen=True)
class Item:
    """One file of the corpus: its name on the server, what it is, and where it lies."""

    name: str
    label: str  # "photo", "720p" or "480p"
    path: Path
    content_type: str


@dataclass
class Job:
    """One timed capture job: what it fetched, how long it took, and its steps' ms."""

    label: str
    wall_ms: float
    steps: dict[str, int] = field(default_factory=dict)  # ms by step name
    numbers: dict[str, int] = field(default_factory=dict)  # each step's number in the pipeline


@dataclass
class Round:
    """One round of capture jobs: how many, how long in all, and each job."""

    workers: int
    wall_s: float
    cpu_s: float
    jobs: list[Job]

    @property
    def speed(self) -> Speed:
        """Return captures per minute of wall clock and per minute of the process's CPU."""
        return Speed(len(self.jobs) * 60 / self.wall_s, len(self.jobs) * 60 / self.cpu_s)


@dataclass(frozen=True)
class Corpus:
    """The files: fresh photos for every round, and one clip per size, copied into each round."""

    photos: list[Path]
    clips: dict[str, Path]
    images: int
    videos: int

    def items(self, k: int) -> list[Item]:
        """Return round k's files: its own N photos, and M copies of the clips, alternating."""
        photos = self.photos[k * self.images : (k + 1) * self.images]
        items = [Item(p.name, "photo", p, "image/jpeg") for p in photos]
        labels = [label for label in CLIP_SIZES if label in self.clips]
        for i in range(self.videos):
            label = labels[i % len(labels)]
            # `variant` makes the copies' bytes differ, so each is stored and decoded afresh;
            # the match step finds the earlier copies, as it would a reposted video.
            items.append(Item(f"clip-{i:03d}-{label}.mp4", label, self.clips[label], "video/mp4"))
        return items

    def warm(self) -> list[Item]:
        """Return the warm-up round's files: one photo no round uses, one copy of each clip."""
        items = [Item(p.name, "photo", p, "image/jpeg") for p in self.photos[-1:]]
        seen = {i.label: i for i in self.items(0) if i.label != "photo"}
        return items + list(seen.values())


def corpus_make(*, images: int, videos: int, rounds: int, root: Path) -> Corpus:
    """Write N photos per round (and one more) and a clip per size, in child processes.

    Every round has photos of its own, so that the match step searches for photos it has not
    seen, as it mostly does; children on every core make the corpus sooner and keep the
    encoder's memory out of this process's peak RSS.
    """
    labels = list(CLIP_SIZES)[: max(0, videos)]
    sizes = {label: CLIP_SIZES[label] for label in labels} | HASH_ONLY_SIZES
    context = multiprocessing.get_context("fork")  # before Django is set up: nothing to share
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=context) as pool:
        clips = {
            label: pool.submit(clip_write, root / f"clip-{label}.mp4", size, bit_rate)
            for label, (size, bit_rate) in sizes.items()
        }
        photos = [
            pool.submit(photo_write, root / f"photo-{i:04d}.jpg", i)
            for i in range(images * rounds + 1)
        ]
        return Corpus(
            photos=[job.result() for job in photos],
            clips={label: job.result() for label, job in clips.items()},
            images=images,
            videos=videos,
        )


def photo_write(path: Path, seed: int) -> Path:
    """Write a photo-like JPEG with a phone's EXIF (GPS, make, date)."""
    from tests.capture import clips
    from tests.capture.media import camera_exif

    clips.photo(1000 + seed, PHOTO_SIZE).save(
        path, "JPEG", quality=PHOTO_QUALITY, exif=camera_exif(1)
    )
    return path


def clip_write(path: Path, size: tuple[int, int], bit_rate: int) -> Path:
    """Write a clip of the tests' panning scene with grain, encoded as web video is.

    The tests' `clips.clip` encodes clean frames with x264's ultrafast preset (no CABAC, no
    B-frames, no deblocking) at ~1 Mbit/s of smooth pixels, which decodes ~4x faster than web
    video of the same size: fine for tests, flattering for a benchmark.
    """
    from tests.capture import clips

    rng = np.random.default_rng(size[1])
    with av.open(str(path), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=CLIP_FPS)
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.bit_rate = bit_rate
        stream.codec_context.gop_size = 2 * CLIP_FPS  # a keyframe every 2 s
        stream.codec_context.options = {"preset": "veryfast", "sc_threshold": "0"}
        for i in range(CLIP_S * CLIP_FPS):
            grain = rng.integers(-GRAIN, GRAIN + 1, (size[1], size[0], 1), dtype=np.int16)
            pixels = (np.asarray(clips.view(i, size), np.int16) + grain).clip(0, 255)
            frame = av.VideoFrame.from_ndarray(pixels.astype(np.uint8), format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def variant(item: Item, tag: bytes) -> bytes:
    """Return the item's bytes made unique to a round (so nothing is reused), same pixels."""
    data = item.path.read_bytes()
    if item.content_type == "image/jpeg":  # a comment segment right after the start marker
        return data[:2] + b"\xff\xfe" + struct.pack(">H", 2 + len(tag)) + tag + data[2:]
    return data + struct.pack(">I", 8 + len(tag)) + b"free" + tag  # a top-level MP4 'free' box


def round_run(*, server: Loopback, items: list[Item], workers: int, tag: str) -> Round:
    """Serve a fresh copy of every item, submit a capture of each, and run them with W threads."""
    from django.db import connections
    from tests.loopback import send

    from attrition.capture import pipeline
    from attrition.capture.services import capture_submit

    order = items[:]
    random.Random(tag).shuffle(order)  # videos spread through the round, as they come
    pending: queue.SimpleQueue[tuple[int, Item]] = queue.SimpleQueue()
    for item in order:
        body = variant(item, f"{RUN}/{tag}/{item.name}".encode())
        path = f"/{tag}/{item.name}"
        server.routes[path] = functools.partial(send, body=body, content_type=item.content_type)
        job = capture_submit(url=server.url(path), via="bench", nudge=False)
        pending.put((job.pk, item))
    timed: dict[int, Job] = {}
    failed: list[str] = []

    def work() -> None:
        try:
            while True:
                try:
                    job_id, item = pending.get_nowait()
                except queue.Empty:
                    return
                started = time.perf_counter()
                outcome = pipeline.job_run(job_id)
                timed[job_id] = Job(item.label, (time.perf_counter() - started) * 1000)
                if outcome != "done":
                    failed.append(f"{item.name}: {outcome}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    started, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    for path in [p for p in server.routes if p.startswith(f"/{tag}/")]:
        del server.routes[path]
    if failed:
        raise SystemExit(f"{len(failed)} capture(s) did not finish: {failed[:3]}")
    steps_read(timed)
    return Round(workers=workers, wall_s=wall_s, cpu_s=cpu_s, jobs=list(timed.values()))


def steps_read(timed: dict[int, Job]) -> None:
    """Fill in each job's step times from what the job recorded; fail if a file was reused."""
    from attrition.capture.models import CaptureJob

    for job_id, steps in CaptureJob.objects.filter(pk__in=timed).values_list("pk", "steps"):
        timing = timed[job_id]
        for step in steps:
            timing.steps[step["step"]] = timing.steps.get(step["step"], 0) + step["ms"]
            timing.numbers[step["step"]] = step["n"]
    hashed = sum(1 for j in timed.values() if ("pdq" if j.label == "photo" else "video") in j.steps)
    if hashed < len(timed):
        raise SystemExit(f"{len(timed) - hashed} file(s) not hashed: reused from an earlier run?")


@contextmanager
def one_core() -> Iterator[None]:
    """Pin this thread, and the threads it starts (FFmpeg's decoders), to one CPU."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def samples(repeat: int, fn: Callable[[], Speed]) -> list[Speed]:
    """Return K results of `fn` after one warm-up run."""
    fn()
    return [fn() for _ in range(repeat)]


@dataclass(frozen=True)
class Speed:
    """A rate measured twice: per second of wall clock, and per second of this process's CPU."""

    wall: float
    cpu: float


def medians(speeds: list[Speed]) -> tuple[Speed, Speed]:
    """Return the median and the worst (slowest) of K speeds, each by wall clock and by CPU."""
    median = Speed(
        statistics.median(s.wall for s in speeds), statistics.median(s.cpu for s in speeds)
    )
    return median, Speed(min(s.wall for s in speeds), min(s.cpu for s in speeds))


def pdq_rate(paths: list[Path]) -> Speed:
    """Return the images per second `pdq.run` hashes, over the photos for at least 1 s."""
    from attrition.capture.steps import pdq

    done, started, cpu = 0, time.perf_counter(), time.process_time()
    while (elapsed := time.perf_counter() - started) < MIN_SAMPLE_S:
        for path in paths:
            pdq.run(path=path)
        done += len(paths)
    return Speed(done / elapsed, done / (time.process_time() - cpu))


def video_speed(path: Path) -> Speed:
    """Return how many times faster than realtime the video step samples and hashes a clip."""
    from attrition import config
    from attrition.capture.steps import video

    with tempfile.TemporaryDirectory(prefix="attrition-bench-frames-") as workdir:
        started, cpu = time.perf_counter(), time.process_time()
        clip = video.run(
            path=path,
            workdir=Path(workdir),
            every_s=float(config.VIDEO_FRAME_EVERY_S.read()),
            max_frames=config.VIDEO_MAX_FRAMES.read(),
        )
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        return Speed(clip.duration_s / wall, clip.duration_s / cpu)


def peak_rss_mb() -> float:
    """Return this process's peak resident memory so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    """Return a line of machine facts: cores, CPU, Python, database, date."""
    from django.db import connection

    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        cpu = f" ({names[0].partition(':')[2].strip()})" if names else ""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    else:
        database = f"SQLite {sqlite3.sqlite_version}"
    return (
        f"{os.cpu_count()} cores{cpu}, Python {platform.python_version()}, {database}, "
        f"{dt.date.today().isoformat()}"
    )


def corpus_line(items: list[Item], repeat: int) -> str:
    """Return a line describing the corpus."""
    sizes = [i.path.stat().st_size for i in items if i.label == "photo"]
    parts = [f"{len(sizes)} photo-like {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} JPEGs"] if sizes else []
    if sizes:
        parts[0] += f" (mean {statistics.mean(sizes) / 1e3:,.0f} kB)"
    for label, (_size, bit_rate) in CLIP_SIZES.items():
        count = sum(1 for i in items if i.label == label)
        if count:
            parts.append(f"{count} x {label} clip ({CLIP_S} s, {bit_rate / 1e6:g} Mbit/s)")
    return (
        f"{' + '.join(parts)}, H.264 {CLIP_FPS} fps (x264 veryfast) with grain; "
        f"medians of {repeat} rounds"
    )


def steps_table(rounds: list[Round]) -> list[str]:
    """Return the per-job step times (median ms by kind of file) of the given rounds."""
    jobs = [job for r in rounds for job in r.jobs]
    labels = [label for label in ("photo", *CLIP_SIZES) if any(j.label == label for j in jobs)]
    lines = [
        "| step, median ms per job | " + " | ".join(labels) + " |",
        "| --- |" + " --- |" * len(labels),
    ]

    def row(name: str, value: Callable[[Job], float]) -> str:
        cells = [
            f"{statistics.median(value(j) for j in jobs if j.label == label):,.0f}"
            for label in labels
        ]
        return f"| {name} | " + " | ".join(cells) + " |"

    numbers = {name: n for j in jobs for name, n in j.numbers.items()}
    for step in sorted(numbers, key=lambda name: (numbers[name], name)):
        lines.append(row(f"{numbers[step]}. {step}", functools.partial(step_ms, step=step)))
    lines.append(row("outside steps (claim, step records, finish)", outside_ms))
    lines.append(row("whole job", lambda j: j.wall_ms))
    return lines


def step_ms(job: Job, *, step: str) -> float:
    """Return the ms a job spent in one step (summed when it ran more than once)."""
    return job.steps.get(step, 0)


def outside_ms(job: Job) -> float:
    """Return the ms of a job spent outside its recorded steps."""
    return job.wall_ms - sum(job.steps.values())


def e2e_run(
    *, server: Loopback, corpus: Corpus, workers: list[int], repeat: int
) -> dict[int, list[Round]]:
    """Run one warm-up round, then K rounds per worker count; return the rounds by count."""
    round_run(server=server, items=corpus.warm(), workers=1, tag="warm")
    rounds: dict[int, list[Round]] = {}
    for n, w in enumerate(workers):
        rounds[w] = []
        for k in range(repeat):
            items = corpus.items(n * repeat + k)
            done = round_run(server=server, items=items, workers=w, tag=f"w{w}r{k}")
            rounds[w].append(done)
            print(
                f"capture  workers={w} round={k + 1}  {len(done.jobs)} jobs "
                f"in {done.wall_s:6.1f} s  {done.speed.wall:6.0f}/min  "
                f"{done.speed.cpu:6.0f}/CPU-min",
                flush=True,
            )
    return rounds


Row = tuple[str, Speed, Speed, str]  # what, median, worst, unit


def hashing_run(corpus: Corpus, repeat: int) -> list[Row]:
    """Return the hashing figures: PDQ images/s and video x realtime, per core and unpinned."""
    photos = corpus.photos
    rows: list[Row] = []
    if photos:
        with one_core():
            rows.append(
                (
                    "PDQ (`pdq.run`), one core",
                    *medians(samples(repeat, lambda: pdq_rate(photos))),
                    "images/s",
                )
            )
    for label, clip in corpus.clips.items():
        with one_core():
            pinned = medians(samples(repeat, functools.partial(video_speed, clip)))
        rows.append((f"video {label}: sample 1/s, hash, one core", *pinned, "x realtime"))
        free = medians(samples(repeat, functools.partial(video_speed, clip)))
        rows.append((f"video {label}: one job, decoder threads on all cores", *free, "x realtime"))
    for name, median, _worst, unit in rows:
        print(f"{name:<52} {median.wall:8.1f} {unit} ({median.cpu:.1f} per CPU-s)", flush=True)
    return rows


def report(
    *,
    items: list[Item],
    rounds: dict[int, list[Round]],
    hashing: list[Row],
    rss: dict[str, float],
    k: int,
) -> None:
    """Print the markdown to paste: machine, corpus, throughput, hashing and step tables."""
    images = sum(1 for i in items if i.label == "photo")
    rows = [
        (
            f"captures/min, {images} photos + {len(items) - images} clips, {workers_name(w)}",
            *medians([r.speed for r in done]),
            "",
        )
        for w, done in rounds.items()
    ]
    print()
    print(f"{machine()}; {corpus_line(items, k)}:")
    print()
    print("| measurement | wall clock: median (worst) | per CPU-second (CPU-minute: captures) |")
    print("| --- | --- | --- |")
    for name, median, worst, unit in [*rows, *hashing]:
        fmt = "{:,.0f}" if median.wall >= 100 else "{:,.1f}"
        wall = f"{fmt.format(median.wall)} ({fmt.format(worst.wall)}) {unit}".rstrip()
        print(f"| {name} | {wall} | {fmt.format(median.cpu)} |")
    for phase, mb in rss.items():
        print(f"| peak RSS of the process, {phase} | {mb:,.0f} MB | |")
    if rounds:
        first = min(rounds)
        print()
        print(f"Where a job's time goes ({workers_name(first)}):")
        print()
        print("\n".join(steps_table(rounds[first])))


def workers_name(n: int) -> str:
    """Return "1 worker" or "n workers"."""
    return f"{n} worker{'s' if n > 1 else ''}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--workers", default="1,2", help="worker thread counts, e.g. 1,2")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    if args.images + args.videos < 1 or args.repeat < 1 or min(workers, default=0) < 1:
        parser.error("need at least one file, one round and one worker per count")
    sys.path.insert(0, str(ROOT))  # the corpus comes from the tests' media generator
    os.environ["ATTRITION_FETCH_ALLOW"] = "127.0.0.0/8"  # the guard refuses loopback otherwise
    os.environ.setdefault("ATTRITION_LOG_LEVEL", "WARNING")  # no faiss loader chatter
    with tempfile.TemporaryDirectory(prefix="attrition-bench-corpus-") as root:
        started = time.perf_counter()
        corpus = corpus_make(
            images=args.images,
            videos=args.videos,
            rounds=len(workers) * args.repeat,
            root=Path(root),
        )
        print(f"corpus: made in {time.perf_counter() - started:.1f} s", flush=True)
        instance_setup()
        from django.db import connection
        from tests.loopback import loopback_server

        from attrition import config

        print(f"database: {connection.vendor}; python {platform.python_version()}", flush=True)
        with loopback_server(config.FETCH_MAX_BYTES.read()) as server:
            rounds = e2e_run(server=server, corpus=corpus, workers=workers, repeat=args.repeat)
        rss = {"capturing": peak_rss_mb()}
        hashing = hashing_run(corpus, args.repeat)
        rss["and hashing"] = peak_rss_mb()
        report(items=corpus.items(0), rounds=rounds, hashing=hashing, rss=rss, k=args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
