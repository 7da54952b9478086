"""The capture pipeline: what a capture job does, step by step, each step's outcome on the job.

 1. canonicalise the URL (when its evidence was created: `attrition.evidence.urls`);
 2. guard every connection against internal addresses (inside each fetch: `capture.guard`);
 3. fetch: the URL over HTTP; a web page is kept and its video (yt-dlp) and images fetched too;
    platform URLs (YouTube, X, Telegram...) go through yt-dlp; an upload is already stored;
 4. store each file content-addressed, never overwriting (`steps/store`);
 5. enrich: sniffed type, pixel size, EXIF, public derivatives (`steps/enrich`);
 6. video: probe, sample frames and keyframes (`steps/video`);
 7. PDQ hashes of images and frames (`steps/pdq`);
 8. custody: who, when, from where, how, with what tools (`capture.archive`);
 9. match: against every stored image and frame hash, recorded as media matches
    (`dedup.matching`), so duplicates are known before a loss is counted twice.

A failure is recorded on the step and ends the job with a clear error, or puts it back in the
queue with backoff when trying again can help (timeouts, dropped connections).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage
from django.utils import timezone

from attrition import config, history
from attrition.capture import archive as archiving
from attrition.capture import services
from attrition.capture.archive import Received
from attrition.capture.errors import (
    BadMedia,
    CaptureCrash,
    CaptureError,
    FetchFailed,
    FetchTooLarge,
    SourceGone,
)
from attrition.capture.models import CaptureJob
from attrition.capture.steps import http_fetch, page, store, ytdlp
from attrition.capture.workspace import workspace
from attrition.errors import AttritionError
from attrition.evidence.models import Capture, CustodyRecord
from attrition.history import ChangeKind

log = logging.getLogger(__name__)


class Steps:
    """Runs steps for one job, recording each one's outcome, timing and error on the job."""

    def __init__(self, job: CaptureJob) -> None:
        self.job = job

    def __call__(self, number: int, name: str, fn: Callable[..., Any], /, **kwargs: Any) -> Any:
        """Run one step and record how it went; its errors propagate after being recorded."""
        started = time.monotonic()
        outcome: dict[str, Any] = {"n": number, "step": name, "at": timezone.now().isoformat()}
        try:
            result = fn(**kwargs)
        except AttritionError as exc:
            outcome.update(outcome="failed", error=exc.as_dict()["error"])
            raise
        except Exception as exc:  # recorded here, then handled by job_run
            outcome.update(outcome="failed", error=crash_of(exc).as_dict()["error"])
            raise
        finally:
            outcome["ms"] = round((time.monotonic() - started) * 1000)
            if "outcome" in outcome:
                services.job_step_record(self.job, outcome)
        outcome.update(outcome="ok", detail=summary(result))
        services.job_step_record(self.job, outcome)
        return result

    def skip(self, number: int, name: str, why: str) -> None:
        """Record that a step did not apply."""
        services.job_step_record(
            self.job, {"n": number, "step": name, "outcome": "skipped", "detail": why, "ms": 0}
        )


def summary(result: Any) -> str:
    """Return a short text of what a step produced, for the job's record."""
    if isinstance(result, str):
        return result
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        shown = []
        for f in dataclasses.fields(result):
            value = getattr(result, f.name)
            if isinstance(value, str | int | float | bool) and f.name not in {"path"}:
                shown.append(f"{f.name}={value}")
            elif isinstance(value, tuple | list):
                shown.append(f"{f.name}: {len(value)}")
        return ", ".join(shown)[:500]
    return ""


def retryable(error: AttritionError) -> bool:
    """Return whether trying the job again later could succeed."""
    if isinstance(error, CaptureCrash):
        return True
    return isinstance(error, FetchFailed) and not isinstance(error, SourceGone | FetchTooLarge)


def crash_of(exc: Exception) -> CaptureCrash:
    """Return the recorded error of an unexpected exception."""
    return CaptureCrash(f"the capture stopped on an unexpected error: {type(exc).__name__}: {exc}")


def retry_or_fail(job: CaptureJob, error: AttritionError) -> str:
    """Put a failed job back in the queue if trying again can help, else end it failed."""
    if retryable(error):
        delay = services.job_retry_later(job, error=error)
        if delay is not None:
            from attrition.jobs import enqueue_in

            enqueue_in(services.JOB, delay, job_id=job.pk)
            return f"retry in {delay:.0f} s: {error.message}"
    else:
        services.job_finish(job, error=error)
    return f"failed: {error.message}"


def job_run(job_id: int) -> str:
    """Claim a capture job and run it to its end; return what happened, in a few words."""
    job = services.job_claim(job_id)
    if job is None:
        return "not due, already running or finished"
    if job.attempts > config.CAPTURE_MAX_ATTEMPTS.read():
        services.job_finish(
            job,
            error=CaptureError(
                f"gave up after {job.attempts - 1} attempts: the worker stopped each time"
            ),
        )
        return "failed: attempts used up"
    steps = Steps(job)
    try:
        error = job_steps(job, steps)
    except AttritionError as exc:
        return retry_or_fail(job, exc)
    except Exception as exc:  # a bug or an outage: on the record at once, not after the lease
        log.exception("capture job %s stopped on an unexpected error", job.pk)
        return retry_or_fail(job, crash_of(exc))
    services.job_finish(job, error=error)
    return f"failed: {error.message}" if error else "done"


def job_steps(job: CaptureJob, steps: Steps) -> BadMedia | None:
    """Run the steps of a job; return the media error of its main file, if it had one."""
    steps(1, "canonicalise", lambda: job.evidence.canonical_url or "upload: no URL")
    if job.upload_sha256:
        return upload_archive(job, steps)
    with workspace("fetch") as tmp:
        return url_archive(job, steps, tmp)


def upload_archive(job: CaptureJob, steps: Steps) -> BadMedia | None:
    """Archive an upload, whose original the upload itself stored."""
    steps.skip(2, "guard", "upload: nothing fetched")
    key = store.key_for(job.upload_sha256)
    storage = default_storage
    with archiving.local_copy(storage, key) as path:
        received = Received(
            path=path,
            sha256=job.upload_sha256,
            size=storage.size(key),
            method=CustodyRecord.Method.UPLOAD,
            source_url="",
            final_url="",
            collected_at=job.created_at,
            name=job.upload_name,
        )
        steps(3, "fetch", lambda: f"uploaded file {job.upload_name!r}")
        _capture, error = archiving.archive(job=job, received=received, step=steps)
    return error


def url_archive(job: CaptureJob, steps: Steps, tmp: Path) -> BadMedia | None:
    """Archive what a URL leads to: the file, or the page with its video and images."""
    steps(2, "guard", lambda: "every connection is vetted as the fetch makes it")
    if ytdlp.can_handle(job.url):
        return platform_archive(job, steps, tmp)
    fetched = steps(3, "http_fetch", http_fetch.run, url=job.url, tmp_dir=tmp)
    capture, error = archiving.archive(job=job, received=from_http(fetched), step=steps)
    fetched.discard()
    if capture.kind == Capture.Kind.PAGE:
        page_media_archive(job, steps, tmp, capture)
    return error


def platform_archive(job: CaptureJob, steps: Steps, tmp: Path) -> BadMedia | None:
    """Archive a platform post: its media through yt-dlp, and its page when it can be fetched."""
    try:
        fetched = steps(3, "http_fetch", http_fetch.run, url=job.url, tmp_dir=tmp)
    except CaptureError:
        log.info("capture job %s: the page of %s could not be kept", job.pk, job.url)
    else:
        archiving.archive(job=job, received=from_http(fetched), step=steps)
        fetched.discard()
    downloaded = steps(3, "ytdlp", ytdlp.run, url=job.url, tmp_dir=tmp)
    _capture, error = archiving.archive(job=job, received=from_ytdlp(downloaded), step=steps)
    downloaded.path.unlink(missing_ok=True)
    return error


def page_media_archive(job: CaptureJob, steps: Steps, tmp: Path, kept: Capture) -> None:
    """Fetch the video and images a kept page shows; their failures are recorded, not fatal."""
    with archiving.local_copy(default_storage, kept.storage_key) as path:
        facts = steps(3, "page", page.run, path=path, base_url=job.url)
    evidence_fill(job, facts)
    try:
        downloaded = steps(3, "ytdlp", ytdlp.run, url=job.url, tmp_dir=tmp)
    except CaptureError:
        pass  # a page without video is a page: its images may still be there
    else:
        archiving.archive(job=job, received=from_ytdlp(downloaded), step=steps)
        downloaded.path.unlink(missing_ok=True)
    images = [ref for ref in facts.media if ref.kind == "image"]
    for ref in images[: config.CAPTURE_PAGE_MEDIA.read()]:
        try:
            fetched = steps(3, "http_fetch", http_fetch.run, url=ref.url, tmp_dir=tmp)
            archiving.archive(job=job, received=from_http(fetched), step=steps)
            fetched.discard()
        except CaptureError:
            continue


def evidence_fill(job: CaptureJob, facts: page.PageFacts) -> None:
    """Fill the evidence's empty title, channel and posting time from what its page says."""
    evidence = job.evidence
    changed = False
    for name, value in (("title", facts.title[:500]), ("channel", facts.author[:300])):
        if value and not getattr(evidence, name):
            setattr(evidence, name, value)
            changed = True
    if facts.published_at and evidence.posted_at is None:
        evidence.posted_at = facts.published_at
        changed = True
    if changed:
        evidence.save()
        history.record_version(
            evidence,
            by=None,
            kind=ChangeKind.UPDATE,
            reason="read from the captured page",
            via="capture",
        )


def from_http(fetched: http_fetch.Fetched) -> Received:
    """Return what an HTTP fetch received, as custody records it."""
    return Received(
        path=fetched.path,
        sha256=fetched.sha256,
        size=fetched.size,
        method=CustodyRecord.Method.HTTP,
        source_url=fetched.source_url,
        final_url=fetched.final_url,
        collected_at=fetched.collected_at,
        declared_mime=fetched.headers.get("content-type", ""),
        http_status=fetched.status,
        headers=fetched.headers,
        chain=tuple(
            {"url": hop.url, "status": hop.status, "location": hop.location}
            for hop in fetched.chain
        ),
        address=fetched.address,
    )


def from_ytdlp(downloaded: ytdlp.Downloaded) -> Received:
    """Return what yt-dlp downloaded, as custody records it."""
    return Received(
        path=downloaded.path,
        sha256=downloaded.sha256,
        size=downloaded.size,
        method=CustodyRecord.Method.YTDLP,
        source_url=downloaded.source_url,
        final_url=downloaded.final_url,
        collected_at=downloaded.collected_at,
        info={
            **downloaded.info,
            "extractor": downloaded.extractor,
            "requests": list(downloaded.requests),
        },
    )
