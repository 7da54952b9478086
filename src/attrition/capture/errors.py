"""Why a capture failed: each a clear, recorded error of the one application hierarchy."""

from __future__ import annotations

from attrition.errors import AttritionError


class CaptureError(AttritionError):
    """A capture step failed; the message says why, the details what was tried."""

    code = "capture_failed"
    status = 502


class FetchRefused(CaptureError):
    """The guard refused to fetch a URL: not http(s), or an internal address."""

    code = "fetch_refused"
    status = 400


class FetchFailed(CaptureError):
    """The source could not be downloaded (network error, bad status, bad response)."""

    code = "fetch_failed"


class SourceGone(FetchFailed):
    """The source answered 404 Not Found or 410 Gone."""

    code = "source_gone"


class FetchTooLarge(FetchFailed):
    """The file is larger than ATTRITION_FETCH_MAX_BYTES."""

    code = "too_large"


class FetchTimeout(FetchFailed):
    """The source was too slow to connect, to answer or to finish."""

    code = "timeout"


class LengthMismatch(FetchFailed):
    """The source sent more or fewer bytes than its Content-Length said."""

    code = "length_mismatch"


class StoreConflict(CaptureError):
    """Storage holds an object under a SHA-256 whose size differs from the bytes at hand."""

    code = "store_conflict"
    status = 500


class BadMedia(CaptureError):
    """The stored bytes are not the media they claim to be, or cannot be decoded safely
    (empty, truncated, a decompression bomb, a corrupt video, HTML served as an image).

    Retrying cannot help: the original stays archived as it was received, and the error is
    recorded on the capture job.
    """

    code = "bad_media"
    status = 422


class CaptureCrash(CaptureError):
    """A capture stopped on an unexpected error (a bug, a database or storage outage); it is
    recorded on the job and tried again like a network failure."""

    code = "internal_error"
    status = 500
