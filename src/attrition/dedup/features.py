"""Tier-2 media matching: local features stored per item, checked geometrically and photometrically.

What no perceptual hash survives (crops, small rotations, screenshots, flips) is found by matching
local features. `extract` takes an image to grey, at most 1 MP, and keeps the strongest 2,000
AKAZE keypoints found with a low detector threshold, with a small thumbnail; the item stores that
(`to_bytes`). `verify` matches the first 1,400 of a query's descriptors to the first 1,400 of a
candidate's (ratio test, one-to-one), fits a similarity transform with RANSAC, and then compares
the aligned thumbnails block by block, because inliers alone link different photos that share a
screenshot frame, a watermark, or a scene seen from two points (a stereo pair): those agree where
they share pixels and nowhere else. Flips are found with `extract_mirrored` as a second query. A
JPEG not yet loaded is decoded reduced (`Image.draft`, which changes the image object passed in),
as a 12 MP photo needs 1 MP.

Thresholds were tuned on `bench/dedup_quality.py` (figures in bench/README.md) and are kept
conservative: an auto-link (`Verdict.same`) needs every check to pass with a margin; weaker
evidence only suggests a review (`Verdict.suggest`).
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import faiss
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

from attrition.capture.steps.pdq import flatten

# Extraction (DESIGN, "Deduplication"): a low threshold finds keypoints in soft and small images;
# the strongest MAX_POINTS of them are kept (AKAZE's max_points).
THRESHOLD = 1e-4
MAX_POINTS = 2000
MAX_PIXELS = 1_000_000  # the grey image features are taken from
MIN_SIDE = 32  # px; AKAZE needs a few octaves: a smaller image has no features
THUMB_PIXELS = 256 * 256  # the thumbnail's area, whatever its aspect ratio
THUMB_QUALITY = 90  # its JPEG quality when stored: half the bytes zlib leaves it
DESCRIPTOR_BYTES = 61  # AKAZE's full MLDB descriptor, 486 bits
FORMAT = 1  # of `to_bytes`; bump when the stored arrays change

# Matching and geometry.
RATIO = 0.75  # Lowe's ratio test on Hamming distances
RANSAC_PX = 3.0  # reprojection error of an inlier, in the candidate's normalised pixels
RANSAC_ITERS = 2000
MIN_MATCHES = 8  # fewer ratio-test matches than this are not worth a RANSAC
SCALES = (1 / 8, 8.0)  # a similarity outside these scales is a degenerate fit

# PHOTOMETRIC check: the aligned thumbnails are cut into BLOCK px squares; a block with texture
# in either image (grey standard deviation >= FLAT_STD) counts, and agrees when the blocks'
# normalised cross-correlation is >= BLOCK_NCC. The score is the share of counting blocks that
# agree, over all of them and over those holding no inlier, whichever is lower; fewer than
# MIN_BLOCKS counting blocks give no score.
BLOCK = 16
FLAT_STD = 4.0
BLOCK_NCC = 0.5
MIN_BLOCKS = 6
EDGE = 12  # px of the thumbnails' overlap left out along its edges

# The verdict. An auto-link needs all three with a margin: on the benchmark every true copy but
# the watermarked ones agreed on 100% of blocks, and the worst hard negative (two photos 5:1 in
# one screenshot frame) on 85%. A suggestion needs a plain geometric fit; the stereo pair and
# different photos in one frame land there, for a reviewer to look at.
SAME_INLIERS = 20
SAME_RATIO = 0.7
SAME_PHOTOMETRIC = 0.92
SUGGEST_INLIERS = 12
SUGGEST_RATIO = 0.3

# verify_many's quick pass: the first QUICK_POINTS keypoints of either side are matched first, and
# only candidates with QUICK_INLIERS consistent matches among them are verified in full. Keypoints
# are stored spread over a GRID x GRID grid (each cell's strongest first), so that the quick pass
# sees a screenshot's photo and not only its frame's text, which holds the strongest keypoints.
QUICK_POINTS = 500
QUICK_INLIERS = 6
GRID = 8

# The full match, too, takes only the first MATCH_POINTS keypoints of either side (a spread subset,
# as above). Its Hamming k-NN costs n x n, most of verify_many's worst case (200 candidates that
# all share content with the query: 1.1 s with 2,000, over the 1 s target per core); 1,400 cut
# that by 40%. On the benchmark this changed no recall figure and no false link; tier 2's
# auto-links kept 79% of their inliers (median; the least, 37, is the clock's, which has only 57
# keypoints); one watermarked copy (grass, also a PDQ hit) went to review, as the photometric
# check then sees more blocks without an inlier. 1,200 (half the cost) linked the same copies
# with 66% of the inliers; 1,000 sent a second watermarked copy to review.
MATCH_POINTS = 1400

Region = tuple[float, float, float, float]
Matrix = NDArray[np.float64]


@dataclass(frozen=True)
class Features:
    """One image's local features, as stored per item: keypoints, descriptors and a thumbnail."""

    keypoints: NDArray[np.float32]  # (n, 2) x, y in the normalised image, in `spread` order
    descriptors: NDArray[np.uint8]  # (n, 61) AKAZE MLDB
    width: int  # of the normalised grey image
    height: int
    thumb: NDArray[np.uint8]  # grey, about THUMB_PIXELS, for the photometric check


@dataclass(frozen=True)
class Verdict:
    """What `verify` concluded about a query and a candidate, and the evidence for it."""

    same: bool  # auto-link worthy
    suggest: bool  # worth a reviewer's look (never true when `same` is)
    inliers: int
    matches: int
    inlier_ratio: float
    photometric: float | None
    transform: tuple[float, ...] | None  # query -> candidate: scale, angle (degrees), tx, ty
    region_query: Region | None  # matched region x, y, w, h in 0..1 of the query
    region_other: Region | None  # and of the candidate
    reason: str


def extract(img: Image.Image) -> Features:
    """Return the features of an image as it is stored: upright, grey, at most 1 MP."""
    return features_of(normalise(img, mirror=False))


def extract_mirrored(img: Image.Image) -> Features:
    """Return the features of the image's mirror, the query that finds horizontal flips."""
    return features_of(normalise(img, mirror=True))


def normalise(img: Image.Image, *, mirror: bool) -> NDArray[np.uint8]:
    """Return the image upright (EXIF), optionally mirrored, in grey, reduced to <= MAX_PIXELS."""
    scale = math.sqrt(MAX_PIXELS / max(1, img.width * img.height))
    if scale < 0.5:  # a JPEG not yet loaded decodes reduced (and grey) in the DCT domain
        img.draft("L", (math.ceil(img.width * scale), math.ceil(img.height * scale)))
    upright = ImageOps.exif_transpose(img)
    grey = upright if upright.mode == "L" else flatten(upright).convert("L")
    if mirror:
        grey = ImageOps.mirror(grey)
    if grey.width * grey.height > MAX_PIXELS:
        scale = math.sqrt(MAX_PIXELS / (grey.width * grey.height))
        size = (max(1, int(grey.width * scale)), max(1, int(grey.height * scale)))
        grey = grey.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(grey, dtype=np.uint8)


def features_of(grey: NDArray[np.uint8]) -> Features:
    """Return the strongest AKAZE features of a normalised grey image, and its thumbnail."""
    height, width = grey.shape
    points = np.empty((0, 2), np.float32)
    descriptors = np.empty((0, DESCRIPTOR_BYTES), np.uint8)
    if min(height, width) >= MIN_SIDE:
        create = cv2.xfeatures2d.AKAZE_create  # type: ignore[attr-defined]  # not in cv2's stubs
        akaze = create(threshold=THRESHOLD, max_points=MAX_POINTS)
        keypoints, found = akaze.detectAndCompute(grey, None)
        if found is not None and len(keypoints):
            xy = np.array([k.pt for k in keypoints], np.float32).reshape(-1, 2)
            order = spread(xy, np.array([k.response for k in keypoints]), width, height)
            points, descriptors = xy[order], np.ascontiguousarray(found[order], np.uint8)
    return Features(points, descriptors, width, height, thumbnail(grey))


def spread(
    xy: NDArray[np.float32], response: NDArray[np.float64], width: int, height: int
) -> NDArray[np.intp]:
    """Return an order of keypoints: each grid cell's strongest, then each cell's second, etc."""
    col = np.minimum((xy[:, 0] * GRID // width).astype(np.intp), GRID - 1)
    row = np.minimum((xy[:, 1] * GRID // height).astype(np.intp), GRID - 1)
    cell = row * GRID + col
    by_cell = np.lexsort((-response, cell))  # cell by cell, strongest first within a cell
    starts = np.searchsorted(cell[by_cell], cell[by_cell], side="left")
    rank = np.empty(len(xy), np.intp)
    rank[by_cell] = np.arange(len(xy)) - starts
    return np.lexsort((-response, rank))[:MAX_POINTS]


def thumbnail(grey: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Return the grey image reduced to about THUMB_PIXELS (never enlarged)."""
    height, width = grey.shape
    scale = min(1.0, math.sqrt(THUMB_PIXELS / (width * height)))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size == (width, height):
        return grey.copy()
    return np.asarray(cv2.resize(grey, size, interpolation=cv2.INTER_AREA), np.uint8)


def to_bytes(f: Features) -> bytes:
    """Return the features as a compressed npz (the thumbnail as a JPEG), what an item stores."""
    jpeg = io.BytesIO()
    Image.fromarray(f.thumb).save(jpeg, "JPEG", quality=THUMB_QUALITY)
    out, head = io.BytesIO(), np.array([FORMAT, f.width, f.height], np.int32)
    thumb = np.frombuffer(jpeg.getvalue(), np.uint8)
    np.savez_compressed(
        out, format=head, keypoints=f.keypoints, descriptors=f.descriptors, thumb=thumb
    )
    return out.getvalue()


def from_bytes(b: bytes) -> Features:
    """Return the features stored by `to_bytes`, or raise ValueError if `b` is not that."""
    try:
        with np.load(io.BytesIO(b), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in ("format", "keypoints", "descriptors", "thumb")}
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as e:
        raise ValueError(f"not stored features ({type(e).__name__}: {e})") from e
    head, points, descriptors, thumb = arrays.values()
    if head.shape != (3,) or head.dtype.kind not in "iu" or int(head[0]) != FORMAT:
        raise ValueError(f"stored features of an unknown format: {head.tolist()}")
    n = points.shape[0] if points.ndim else -1
    types = (points.dtype.str, descriptors.dtype.str, thumb.dtype.str)
    shapes = (points.shape, descriptors.shape, thumb.ndim, bool(min(head[1:]) > 0))
    if shapes != ((n, 2), (n, DESCRIPTOR_BYTES), 1, True) or types != ("<f4", "|u1", "|u1"):
        raise ValueError("stored features with arrays of the wrong shape or type")
    return Features(points, descriptors, int(head[1]), int(head[2]), decode(thumb.tobytes()))


def decode(jpeg: bytes) -> NDArray[np.uint8]:
    """Return a stored thumbnail's grey pixels, or raise ValueError if it cannot be decoded."""
    try:
        with Image.open(io.BytesIO(jpeg), formats=["JPEG"]) as img:
            if img.width * img.height > 4 * THUMB_PIXELS:
                raise ValueError(f"a {img.width} x {img.height} thumbnail")
            return np.asarray(img.convert("L"), np.uint8)
    except (OSError, SyntaxError, EOFError, ValueError, Image.DecompressionBombError) as e:
        raise ValueError(f"stored features with a bad thumbnail ({e})") from e


def verify(query: Features, other: Features) -> Verdict:
    """Return the verdict on whether `other` shows `query`'s photo (whole, cropped, framed...)."""
    few = min(len(query.descriptors), len(other.descriptors))
    if few < MIN_MATCHES:
        return refusal(f"Not linked: one image has too few features to match ({few} keypoints).")
    qi, oi = match(query.descriptors[:MATCH_POINTS], other.descriptors[:MATCH_POINTS])
    return judge(query, other, query.keypoints[qi], other.keypoints[oi])


def verify_many(query: Features, others: Sequence[Features]) -> list[Verdict]:
    """Return `verify(query, other)` for each candidate, skipping those a quick pass rules out."""
    verdicts = []
    for other in others:
        sizes = (len(query.keypoints), len(other.keypoints))
        inliers = QUICK_INLIERS  # a quick pass would be all of the match, or nothing: verify
        if max(sizes) > QUICK_POINTS and min(sizes) >= MIN_MATCHES:
            qi, oi = match(query.descriptors[:QUICK_POINTS], other.descriptors[:QUICK_POINTS])
            inliers = int(similarity(query.keypoints[qi], other.keypoints[oi])[1].sum())
        if inliers >= QUICK_INLIERS:
            verdicts.append(verify(query, other))
        else:
            quick = f"a quick pass over {QUICK_POINTS} keypoints found {inliers} that fit one"
            verdicts.append(refusal(f"Not linked: {quick} transform (needs {QUICK_INLIERS})."))
    return verdicts


def refusal(
    reason: str, matches: int = 0, inliers: int = 0, transform: tuple[float, ...] | None = None
) -> Verdict:
    """Return a not-same verdict without photometric evidence."""
    ratio = inliers / matches if matches else 0.0
    return Verdict(False, False, inliers, matches, ratio, None, transform, None, None, reason)


def match(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Return indices of matched descriptors (ratio test, then one match per descriptor of b)."""
    if len(a) == 0 or len(b) < 2:
        empty = np.empty(0, np.intp)
        return empty, empty
    distances, nearest = faiss.knn_hamming(padded(a), padded(b), 2)
    keep = np.flatnonzero(distances[:, 0] < RATIO * distances[:, 1])
    keep = keep[np.argsort(distances[keep, 0], kind="stable")]
    _, first = np.unique(nearest[keep, 0], return_index=True)  # the closest match of each b
    ai = np.sort(keep[first])
    return ai.astype(np.intp), nearest[ai, 0].astype(np.intp)


def padded(d: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Return descriptors padded with zero bytes to 64, which faiss compares fastest."""
    out = np.zeros((len(d), 64), np.uint8)
    out[:, : d.shape[1]] = d
    return out


def similarity(
    src: NDArray[np.float32], dst: NDArray[np.float32]
) -> tuple[Matrix | None, NDArray[np.bool_]]:
    """Return the similarity transform RANSAC fits from src to dst points, and its inliers."""
    if len(src) < MIN_MATCHES:
        return None, np.zeros(len(src), np.bool_)
    fit: tuple[Any, Any] = cv2.estimateAffinePartial2D(
        src,
        dst,
        method=cv2.RANSAC,
        ransacReprojThreshold=RANSAC_PX,
        maxIters=RANSAC_ITERS,
        confidence=0.995,
    )
    m, mask = fit  # m is None when no transform fits (the stubs do not say so)
    if m is None or mask is None:
        return None, np.zeros(len(src), np.bool_)
    return np.asarray(m, np.float64), mask.ravel().astype(np.bool_)


def judge(
    query: Features, other: Features, src: NDArray[np.float32], dst: NDArray[np.float32]
) -> Verdict:
    """Return the verdict on matched points: the geometric fit, then the aligned thumbnails."""
    matches = len(src)
    m, inlier = similarity(src, dst)
    if m is None:
        return refusal(f"Not linked: {matches} descriptor matches fit no transform.", matches)
    inliers = int(inlier.sum())
    ratio = inliers / matches
    scale, angle = math.hypot(m[0, 0], m[1, 0]), math.degrees(math.atan2(m[1, 0], m[0, 0]))
    transform = (round(scale, 4), round(angle, 3), round(m[0, 2], 2), round(m[1, 2], 2))
    if not SCALES[0] <= scale <= SCALES[1]:
        reason = f"Not linked: the fitted transform scales by {scale:.3g}, a degenerate fit."
        return refusal(reason, matches, inliers, transform)
    kept = src[inlier], dst[inlier]
    photo = photometric(query, other, m, *kept) if inliers >= SUGGEST_INLIERS else None
    same = inliers >= SAME_INLIERS and ratio >= SAME_RATIO and (photo or 0.0) >= SAME_PHOTOMETRIC
    suggest = not same and inliers >= SUGGEST_INLIERS and ratio >= SUGGEST_RATIO
    reason = explain(same, inliers, matches, ratio, photo)
    where = regions(query, other, m)
    return Verdict(same, suggest, inliers, matches, ratio, photo, transform, *where, reason)


def explain(same: bool, inliers: int, matches: int, ratio: float, photo: float | None) -> str:
    """Return one sentence on the checks a verdict passed or failed."""
    fit = f"{inliers} of {matches} matches ({ratio:.0%}) fit one similarity transform"
    agree = "no blocks to compare" if photo is None else f"{photo:.0%} of aligned blocks agree"
    if same:
        return f"Same photo: {fit} and {agree}."
    failed = []
    if inliers < SAME_INLIERS:
        failed.append(f"{SAME_INLIERS} inliers")
    if ratio < SAME_RATIO:
        failed.append(f"{SAME_RATIO:.0%} of matches")
    if photo is None or photo < SAME_PHOTOMETRIC:
        failed.append(f"{SAME_PHOTOMETRIC:.0%} of blocks agreeing")
    return f"Not linked: {fit} and {agree}; an auto-link needs {' and '.join(failed)}."


def photometric(
    query: Features, other: Features, m: Matrix, src: NDArray[np.float32], dst: NDArray[np.float32]
) -> float | None:
    """Return how well the thumbnails agree once aligned by `m` (see `agreement`), if measurable."""
    to_q = np.diag([query.thumb.shape[1] / query.width, query.thumb.shape[0] / query.height, 1])
    to_o = np.diag([other.thumb.shape[1] / other.width, other.thumb.shape[0] / other.height, 1])
    t = to_o @ np.vstack([m, [0, 0, 1]]) @ np.linalg.inv(to_q)  # query thumb -> other thumb
    if abs(np.linalg.det(t[:2, :2])) >= 1:  # compare at the coarser resolution: the query's
        warped, mask = resample(other.thumb, t, query.thumb.shape)
        return agreement(query.thumb, warped, mask, src * np.diag(to_q)[:2].astype(np.float32))
    warped, mask = resample(query.thumb, np.linalg.inv(t), other.thumb.shape)
    return agreement(other.thumb, warped, mask, dst * np.diag(to_o)[:2].astype(np.float32))


def resample(
    src: NDArray[np.uint8], t: Matrix, shape: tuple[int, ...]
) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
    """Return src sampled at t(x) for each pixel x of an image of `shape`, and where it was."""
    scale = math.sqrt(abs(np.linalg.det(t[:2, :2])))
    if scale > 1.25:  # shrink first: warpAffine alone would alias
        size = (max(1, round(src.shape[1] / scale)), max(1, round(src.shape[0] / scale)))
        shrink = np.diag([size[0] / src.shape[1], size[1] / src.shape[0], 1])
        src = np.asarray(cv2.resize(src, size, interpolation=cv2.INTER_AREA), np.uint8)
        t = shrink @ t
    dsize = (shape[1], shape[0])
    flags = cv2.WARP_INVERSE_MAP
    warped = cv2.warpAffine(src, t[:2], dsize, flags=cv2.INTER_LINEAR | flags, borderValue=0)
    ones = np.full(src.shape, 255, np.uint8)
    inside = cv2.warpAffine(ones, t[:2], dsize, flags=cv2.INTER_NEAREST | flags, borderValue=0)
    # Edges hold what copies add: the fill of a rotation, an interpolated seam, a thin border.
    kernel = np.ones((2 * EDGE + 1, 2 * EDGE + 1), np.uint8)
    inside = cv2.erode(inside, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return np.asarray(warped, np.uint8), np.asarray(inside > 0)


def agreement(
    a: NDArray[np.uint8],
    b: NDArray[np.uint8],
    mask: NDArray[np.bool_],
    inliers: NDArray[np.float32],
) -> float | None:
    """Return the share of textured blocks in `mask` where a and b correlate (see PHOTOMETRIC)."""
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return None
    top, left = int(ys.min()), int(xs.min())
    rows, cols = (int(ys.max()) + 1 - top) // BLOCK, (int(xs.max()) + 1 - left) // BLOCK
    if rows * cols == 0:
        return None
    window = (slice(top, top + rows * BLOCK), slice(left, left + cols * BLOCK))

    def blocks(x: NDArray[np.generic]) -> NDArray[np.float32]:
        cut = x[window].reshape(rows, BLOCK, cols, BLOCK).swapaxes(1, 2)
        return cut.reshape(rows * cols, BLOCK * BLOCK).astype(np.float32)

    pa, pb = blocks(a), blocks(b)
    pa -= pa.mean(axis=1, keepdims=True)
    pb -= pb.mean(axis=1, keepdims=True)
    sa, sb = pa.std(axis=1), pb.std(axis=1)
    counting = (blocks(mask).min(axis=1) > 0) & (np.maximum(sa, sb) >= FLAT_STD)
    agree = (pa * pb).mean(axis=1) >= BLOCK_NCC * sa * sb
    col, row = ((inliers - (left, top)) // BLOCK).astype(np.intp).T
    inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
    held = np.zeros(rows * cols, np.bool_)
    held[row[inside] * cols + col[inside]] = True
    # The lower of two shares: over all blocks, and over those without an inlier (points in a's
    # pixels), where different photos in one frame disagree while the frame holds the inliers.
    shares = [
        agree[part].mean() for part in (counting, counting & ~held) if part.sum() >= MIN_BLOCKS
    ]
    return float(min(shares)) if counting.sum() >= MIN_BLOCKS else None


def regions(query: Features, other: Features, m: Matrix) -> tuple[Region, Region]:
    """Return the overlap of the two images under `m`, as a region of each (x, y, w, h in 0..1)."""
    back = np.asarray(cv2.invertAffineTransform(m), np.float64)
    return overlap(back, other, query), overlap(m, query, other)


def overlap(t: Matrix, source: Features, target: Features) -> Region:
    """Return the bounding box of the source image's frame mapped by t, clipped to the target."""
    w, h = source.width, source.height
    corners = np.array([[0, 0, 1], [w, 0, 1], [w, h, 1], [0, h, 1]], np.float64) @ t.T
    x0, y0 = np.clip(corners.min(axis=0), 0, (target.width, target.height))
    x1, y1 = np.clip(corners.max(axis=0), 0, (target.width, target.height))
    w, h = target.width, target.height
    return round(x0 / w, 4), round(y0 / h, 4), round((x1 - x0) / w, 4), round((y1 - y0) / h, 4)
