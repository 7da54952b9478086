"""The video step samples frames in one decode, hashes them like photos, and refuses non-videos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from attrition.capture.errors import BadMedia
from attrition.capture.steps.pdq import canonical_image, distance, hash_image
from attrition.capture.steps.video import Probe, Video, plan, probe, run
from tests.capture.clips import audio_only, clip, view

NEAR = 31  # the dedup auto-link threshold


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def five(media: Path) -> Path:
    """5 s at 10 fps, a keyframe every 25 frames (at 0 and 2.5 s), larger than a frame JPEG."""
    return clip(media / "five.mp4", seconds=5, size=(800, 600))


@pytest.fixture(scope="module")
def sampled(five: Path, media: Path) -> Video:
    return run(path=five, workdir=media / "five")


def test_it_samples_each_second_and_every_keyframe(sampled: Video) -> None:
    assert [f.t_ms for f in sampled.frames] == [0, 1000, 2000, 2500, 3000, 4000]
    assert [f.t_ms for f in sampled.frames if f.is_keyframe] == [0, 2500]
    assert sampled.damage is None


def test_it_probes_size_length_codec_and_rate(five: Path, sampled: Video) -> None:
    probed = probe(path=five)
    assert probed == Probe(width=800, height=600, duration_s=5.0, codec="h264", fps=10.0)
    assert (sampled.width, sampled.height, sampled.duration_s) == (800, 600, 5.0)
    assert (sampled.codec, sampled.fps) == ("h264", 10.0)


def test_it_writes_small_metadata_free_jpegs_and_a_poster(media: Path, sampled: Video) -> None:
    for frame in sampled.frames:
        assert frame.path.parent == media / "five"
        with Image.open(frame.path) as img:
            assert (img.format, img.size) == ("JPEG", (640, 480))
            assert not img.getexif()
            assert "exif" not in img.info
            assert "xmp" not in img.info
    assert sampled.poster is not None
    with Image.open(sampled.poster) as poster:
        assert poster.size == (320, 240)


def test_it_hashes_a_frame_as_it_would_hash_the_picture(sampled: Video) -> None:
    for frame in sampled.frames:
        with Image.open(frame.path) as img:
            again = hash_image(canonical_image(img))
        assert frame.pdq.trusted
        assert distance(frame.pdq.hex, again.hex) <= 8  # JPEG noise only
        source = hash_image(canonical_image(view(frame.t_ms // 100, (800, 600))))
        assert distance(frame.pdq.hex, source.hex) <= NEAR  # through the video codec


def test_it_matches_a_clip_cut_from_the_middle_at_offset_timecodes(media: Path) -> None:
    whole = run(path=clip(media / "whole.mp4", seconds=8), workdir=media / "whole")
    cut = clip(media / "cut.mp4", seconds=4, first=20, size=(480, 360), codec="mpeg4", gop=12)
    part = run(path=cut, workdir=media / "cut")
    at = {f.t_ms: f for f in whole.frames}
    pairs = [(f, at[f.t_ms + 2000]) for f in part.frames if f.t_ms + 2000 in at]
    assert len(pairs) >= 4
    assert all(distance(a.pdq.hex, b.pdq.hex) <= NEAR for a, b in pairs)
    assert distance(part.frames[0].pdq.hex, whole.frames[0].pdq.hex) > NEAR


def test_it_caps_the_frames_and_spreads_them_over_the_whole_video(media: Path) -> None:
    path = clip(media / "twenty.mp4", seconds=20, fps=5, gop=12, size=(160, 120))
    assert len(run(path=path, workdir=media / "all").frames) == 27  # 20 marks, 9 keyframes
    capped = run(path=path, workdir=media / "capped", max_frames=6)
    times = [f.t_ms for f in capped.frames]
    assert len(times) == 6
    assert times == sorted(set(times))
    assert times[0] == 0
    assert times[-1] >= 15_000
    assert max(np.diff([*times, 20_000])) <= 5_000


def test_it_plans_a_long_video_within_the_limit_across_its_whole_length() -> None:
    keyframes = list(range(0, 3600 * 90_000, 2 * 90_000))  # one every 2 s, 90 kHz clock
    chosen = plan(duration_s=3600.0, keyframes=keyframes, every_s=1.0, max_frames=600)
    assert chosen.keyframes is not None
    assert len(chosen.marks_ms) + len(chosen.keyframes) <= 600
    assert chosen.interval_s == 12.0
    assert chosen.marks_ms[-1] == 3588_000
    assert min(chosen.keyframes) < 10 * 90_000
    assert max(chosen.keyframes) > 3590 * 90_000


def test_it_plans_every_mark_and_keyframe_when_they_fit() -> None:
    chosen = plan(duration_s=5.0, keyframes=[0, 25_600], every_s=1.0, max_frames=600)
    assert chosen.marks_ms == (0, 1000, 2000, 3000, 4000)
    assert chosen.keyframes is None
    assert chosen.keeps_keyframe(12_345)


def test_it_shows_frames_as_the_display_rotation_says(media: Path) -> None:
    turned = clip(media / "portrait.mp4", seconds=1, rotation=-90)  # a phone held upright
    video = run(path=turned, workdir=media / "portrait")
    assert (video.width, video.height) == (240, 320)
    with Image.open(video.frames[0].path) as img:
        assert img.size == (240, 320)
    upright = hash_image(canonical_image(view(0).transpose(Image.Transpose.ROTATE_270)))
    assert distance(video.frames[0].pdq.hex, upright.hex) <= NEAR


def test_it_keeps_the_frames_before_a_truncation_and_says_so(media: Path) -> None:
    whole = clip(media / "faststart.mp4", seconds=5, faststart=True).read_bytes()
    path = media / "half.mp4"
    path.write_bytes(whole[: len(whole) // 2])
    video = run(path=path, workdir=media / "half")
    assert [f.t_ms for f in video.frames][:3] == [0, 1000, 2000]
    assert video.frames[-1].t_ms < 3000
    assert video.damage is not None
    assert "of 5.0 s" in video.damage


def test_it_skips_a_damaged_stretch_and_says_so(media: Path) -> None:
    body = bytearray(clip(media / "to-damage.mp4", seconds=5).read_bytes())
    middle = len(body) // 3
    body[middle : middle + 3000] = np.random.default_rng(0).bytes(3000)
    path = media / "damaged.mp4"
    path.write_bytes(bytes(body))
    video = run(path=path, workdir=media / "damaged")
    assert video.frames[-1].t_ms == 4000  # decoding went on past the damage
    assert video.damage is not None
    assert "did not decode" in video.damage


def bad_inputs(media: Path) -> dict[str, Path]:
    """Return files that are not videos, by what they are."""
    whole = clip(media / "moov-last.mp4", seconds=2).read_bytes()
    Image.new("RGB", (64, 48), "red").save(media / "photo.jpg")
    made = {
        "empty.mp4": b"",
        "noise.mp4": np.random.default_rng(0).bytes(64_000),
        "truncated.mp4": whole[: len(whole) // 2],
    }
    for name, body in made.items():
        (media / name).write_bytes(body)
    paths = {name: media / name for name in made}
    return {**paths, "photo.jpg": media / "photo.jpg", "audio.mp4": audio_only(media / "a.mp4")}


@pytest.mark.parametrize(
    "kind", ["empty.mp4", "noise.mp4", "truncated.mp4", "photo.jpg", "audio.mp4"]
)
def test_it_raises_bad_media_for_what_is_not_a_video(tmp_path: Path, kind: str) -> None:
    path = bad_inputs(tmp_path)[kind]
    before = path.read_bytes()
    with pytest.raises(BadMedia, match="is not a usable video"):
        run(path=path, workdir=tmp_path / "work")
    with pytest.raises(BadMedia):
        probe(path=path)
    assert path.read_bytes() == before
    assert not list((tmp_path / "work").glob("*"))


def test_it_lets_a_missing_file_be_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        run(path=tmp_path / "gone.mp4", workdir=tmp_path)


def test_it_refuses_a_sampling_that_keeps_nothing(five: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="every_s > 0"):
        run(path=five, workdir=tmp_path, every_s=0)
    with pytest.raises(ValueError, match="max_frames >= 1"):
        run(path=five, workdir=tmp_path, max_frames=0)
