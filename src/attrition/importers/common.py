"""What several importers share: sides and categories by the source's names, stated totals kept as
claims, content hashes of raw records, and inputs made of several files (a directory or archive).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db.models import Q
from django.utils.text import slugify

from attrition import history
from attrition.catalog.models import Category, CategoryMapping, Conflict, EquipmentModel, Side
from attrition.catalog.services import model_add_alias
from attrition.claims.models import Claim
from attrition.importers.report import ImportReport
from attrition.losses.choices import ReviewStatus

VIA = "import"
CLAIMANT = "Oryx"
# An archive or directory holds a handful of files; more is not an import input.
MAX_MEMBERS = 100
# The category of models an import names without saying what they are (the oryx_data set gives
# no equipment type): created once, on first need, listed last; an editor assigns their categories.
UNCLASSIFIED = "unclassified"
UNCLASSIFIED_NAME = "Unclassified"
UNCLASSIFIED_ABOUT = "Models an import named without an equipment type: assign their categories."


def content_hash(raw: dict[str, Any]) -> str:
    """Return the SHA-256 of a raw record, its keys sorted."""
    return hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()


def side_named(sides: list[Side], name: str) -> Side | None:
    """Return the side whose slug, name or short name is `name` (any case), or None."""
    wanted = name.strip().casefold()
    for side in sides:
        if wanted in {side.slug.casefold(), side.name.casefold(), side.short_name.casefold()}:
            return side
    return None


def conflict_get(slug: str, *, given: bool) -> Conflict:
    """Return the conflict `slug`, or raise ImportRefused naming the known ones."""
    from attrition.importers.registry import ImportRefused

    conflict = Conflict.objects.filter(slug=slug).first()
    if conflict is None:
        known = ", ".join(Conflict.objects.values_list("slug", flat=True)) or "none"
        hint = "" if given else " (load the reference data first: `attrition reference`)"
        raise ImportRefused(f"no conflict {slug!r}{hint}; known: {known}")
    return conflict


def category_mapped(
    name: str, on: dt.date, *, source: str = CategoryMapping.Source.ORYX
) -> Category | None:
    """Return our category for a source's category name, by the mapping valid on `on`."""
    mappings = (
        CategoryMapping.objects.select_related("category")
        .filter(source=source, source_category=name)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=on))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .order_by("-valid_from")
    )
    found = mappings.first()
    return found.category if found is not None else None


def unclassified_ensure() -> Category:
    """Return the Unclassified category, creating it the first time it is needed."""
    category, _ = Category.objects.get_or_create(
        slug=UNCLASSIFIED,
        defaults={"name": UNCLASSIFIED_NAME, "order": 32000, "description": UNCLASSIFIED_ABOUT},
    )
    return category


def model_create(
    *, name: str, category: Category, country: str = "", by: Any, reason: str
) -> EquipmentModel:
    """Create a catalog model an import names (a free slug, versioned, its name as an alias)."""
    base = slugify(name)[:110] or "model"
    slug, n = base, 2
    while EquipmentModel.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    model = EquipmentModel.objects.create(
        slug=slug, name=name, category=category, country_of_production=country
    )
    history.record_version(model, by=by, kind=history.ChangeKind.IMPORT, reason=reason, via=VIA)
    model_add_alias(model=model, alias=name)
    return model


@dataclass
class PlannedClaim:
    """A total the source states, to keep as a claim by its author."""

    side: Side
    scope: str
    number: int
    rule: dict[str, Any]
    quote: str


def claims_plan(
    claims: list[PlannedClaim],
    *,
    report: ImportReport,
    conflict: Conflict,
    claimed_on: dt.date,
    source_url: str,
    claimant: str = CLAIMANT,
) -> list[PlannedClaim]:
    """Return the claims not recorded yet, listing each as new or unchanged in the report."""
    pending = []
    for claim in claims:
        exists = Claim.objects.filter(
            conflict=conflict,
            claimant=claimant,
            claimed_on=claimed_on,
            scope=claim.scope,
            source_url=source_url,
            number=claim.number,
            deleted_at__isnull=True,
        ).exists()
        text = f"{claim.scope}: {claim.number}"
        if exists:
            report.claims_unchanged.append(text)
        else:
            report.claims_created.append(text)
            pending.append(claim)
    return pending


def claims_create(
    claims: list[PlannedClaim],
    *,
    conflict: Conflict,
    claimed_on: dt.date,
    source_url: str,
    by: Any,
    reason: str,
    claimant: str = CLAIMANT,
) -> None:
    """Record the planned claims, verified (they are what the source said), each versioned."""
    for claim in claims:
        created = Claim.objects.create(
            conflict=conflict,
            claimant=claimant,
            claimed_on=claimed_on,
            scope=claim.scope,
            scope_rule=claim.rule,
            kind=Claim.Kind.EXACT,
            number=claim.number,
            source_url=source_url,
            quote=claim.quote,
            status=ReviewStatus.VERIFIED,
        )
        history.record_version(
            created, by=by, kind=history.ChangeKind.IMPORT, reason=reason, via=VIA
        )


# -- inputs of several files -------------------------------------------------------------------


def directory_pack(path: Path, *, limit: int) -> bytes:
    """Return the files directly in a directory as an uncompressed zip, refusing what is too big."""
    from attrition.importers.registry import ImportRefused

    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise ImportRefused(f"{path} is an empty directory: it holds no files to import")
    if len(files) > MAX_MEMBERS:
        raise ImportRefused(f"{path} holds {len(files)} files: at most {MAX_MEMBERS} are read")
    total = sum(p.stat().st_size for p in files)
    if total > limit:
        raise ImportRefused(
            f"the files in {path} add up to {total // (1024 * 1024)} MB: the limit is "
            f"{limit // (1024 * 1024)} MB"
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for p in files:
            archive.writestr(p.name, p.read_bytes())
    return buffer.getvalue()


def is_archive(data: bytes) -> bool:
    """Return whether the bytes are a zip or a (plain) tar archive."""
    return data[:4] == b"PK\x03\x04" or data[257:262] == b"ustar"


def archive_members(data: bytes, *, limit: int) -> dict[str, bytes]:
    """Return the files of a zip or tar archive by base name, refusing bombs and damage."""
    from attrition.importers.registry import ImportRefused

    try:
        if data[:4] == b"PK\x03\x04":
            return _zip_members(data, limit=limit)
        if data[257:262] == b"ustar":
            return _tar_members(data, limit=limit)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        raise ImportRefused(f"the archive is damaged or truncated ({exc})") from None
    raise ImportRefused("not a zip or tar archive")


def _wanted(name: str) -> bool:
    """Return whether an archive member is a file of the input, not an archiver's by-product."""
    parts = Path(name).parts
    return bool(parts) and not any(p.startswith((".", "__MACOSX")) for p in parts)


def _checked(names_sizes: list[tuple[str, int]], *, limit: int) -> None:
    from attrition.importers.registry import ImportRefused

    if len(names_sizes) > MAX_MEMBERS:
        raise ImportRefused(
            f"the archive holds {len(names_sizes)} files: at most {MAX_MEMBERS} are read"
        )
    for name, size in names_sizes:
        if size > limit:
            raise ImportRefused(
                f"{name} in the archive unpacks to {size // (1024 * 1024)} MB: the limit is "
                f"{limit // (1024 * 1024)} MB"
            )
    total = sum(size for _, size in names_sizes)
    if total > limit:
        raise ImportRefused(
            f"the archive unpacks to {total // (1024 * 1024)} MB: the limit is "
            f"{limit // (1024 * 1024)} MB"
        )


def _zip_members(data: bytes, *, limit: int) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = [i for i in archive.infolist() if not i.is_dir() and _wanted(i.filename)]
        _checked([(i.filename, i.file_size) for i in infos], limit=limit)
        found: dict[str, bytes] = {}
        for info in infos:
            # The stated size is checked above; reading one byte more than it catches a lie.
            with archive.open(info) as member:
                content = member.read(info.file_size + 1)
            if len(content) > info.file_size:
                _checked([(info.filename, limit + 1)], limit=limit)
            found[Path(info.filename).name] = content
        return found


def _tar_members(data: bytes, *, limit: int) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        infos = [i for i in archive.getmembers() if i.isfile() and _wanted(i.name)]
        _checked([(i.name, i.size) for i in infos], limit=limit)
        found: dict[str, bytes] = {}
        for info in infos:
            member = archive.extractfile(info)
            if member is not None:
                found[Path(info.name).name] = member.read()
        return found
