"""File exports of counts: tallies, timelines, claims and estimates, as CSV or JSON.

The JSON of each is the API's answer for it (the API builds its responses from the same dicts),
so a file and a response never disagree. Every file says the moment it was counted on (`as_of`,
the data version): counting as of it again gives the same numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse

from attrition.catalog.models import Conflict
from attrition.claims.selectors import ClaimBeside
from attrition.counting.estimates import EstimateReport
from attrition.counting.mse import Caveat, Estimate
from attrition.counting.selectors import TallyReport, as_of_text
from attrition.counting.timeline import Timeline
from attrition.errors import InvalidInput
from attrition.losses.models import Tally
from attrition.spreadsheet import cell_safe

FORMATS = ("csv", "json")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def tally_data(report: TallyReport) -> dict[str, Any]:
    """Return a counted tally as the API answers it."""
    t = report.tally
    return {
        "conflict": t.conflict.slug,
        "slug": t.slug,
        "name": t.name,
        "description": t.description,
        "rule": report.rule.model_dump(mode="json"),
        "rule_text": report.rule_text,
        "total": report.result.total,
        "as_of": as_of_text(report.as_of),
        "pinned": report.pinned,
        "sentence": report.sentence,
        "permalink": report.permalink,
        "by_fate": [vars(x) for x in report.by_fate],
        "by_side": [vars(x) for x in report.by_side],
        "by_category": [vars(x) for x in report.by_category],
    }


def timeline_data(
    line: Timeline, *, conflict: Conflict, tally: Tally | None, as_of: dt.datetime
) -> dict[str, Any]:
    """Return a timeline (of a tally, or of a whole conflict) as the API answers it."""
    return {
        "conflict": conflict.slug,
        "tally": tally.slug if tally is not None else "",
        "basis": line.basis,
        "period": line.period,
        "as_of": as_of_text(as_of),
        "total": line.total,
        "undated": line.undated,
        "late_days": line.late_days,
        "lag_days_p90": line.lag_days_p90,
        "incomplete_from": line.incomplete_from,
        "points": [vars(p) for p in line.points],
    }


def claim_data(row: ClaimBeside) -> dict[str, Any]:
    """Return a claim beside its documented counts as the API answers it."""
    c = row.claim
    return {
        "id": c.pk,
        "conflict": c.conflict.slug,
        "claimant": c.claimant,
        "claimed_on": c.claimed_on,
        "scope": c.scope,
        "scope_rule": c.scope_rule,
        "kind": c.kind,
        "number": c.number,
        "number_high": c.number_high,
        "figure": row.figure,
        "source_url": c.source_url,
        "quote": c.quote,
        "evidence": c.evidence_id,
        "status": c.status,
        "documented_then": row.documented_then,
        "documented_now": row.documented_now,
    }


def _caveats(items: Iterable[Caveat]) -> list[dict[str, str]]:
    return [{"code": c.code, "message": c.message} for c in items]


def estimate_data(e: Estimate) -> dict[str, Any]:
    """Return one estimate with its caveats as the API answers it."""
    return {
        "method": e.method,
        "lists": e.lists,
        "list_sizes": e.list_sizes,
        "observed": e.observed,
        "multiply_listed": e.multiply_listed,
        "total": e.total,
        "low": e.low,
        "high": e.high,
        "level": e.level,
        "model": e.model,
        "supported_models": e.supported_models,
        "refused": e.refused,
        "refusals": _caveats(e.refusals),
        "warnings": _caveats(e.warnings),
    }


def estimate_report_data(
    report: EstimateReport, *, conflict: Conflict, tally: Tally | None
) -> dict[str, Any]:
    """Return an estimate report (pooled, by category, notes) as the API answers it."""
    return {
        "conflict": conflict.slug,
        "tally": tally.slug if tally is not None else "",
        "kind": report.kind,
        "as_of": as_of_text(report.as_of) if report.as_of is not None else None,
        "pinned": report.pinned,
        "documented": report.documented,
        "estimate": estimate_data(report.estimate),
        "notes": _caveats(report.notes),
        "strata": [
            {
                "key": s.key,
                "label": s.label,
                "documented": s.documented,
                "estimate": estimate_data(s.estimate),
            }
            for s in report.strata
        ],
        "stratified_total": report.stratified_total,
        "stratified_low": report.stratified_low,
        "stratified_high": report.stratified_high,
        "stratified_refusal": report.stratified_refusal,
    }


def _csv(columns: list[str], rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: cell_safe(row.get(k)) for k in columns})
    return out.getvalue()


TALLY_COLUMNS = ["conflict", "tally", "as_of", "dimension", "key", "label", "count"]


def tally_csv(data: dict[str, Any]) -> str:
    """Return a counted tally as CSV: a total row, then one row per fate, side and category."""
    head = {"conflict": data["conflict"], "tally": data["slug"], "as_of": data["as_of"]}
    rows = [{**head, "dimension": "total", "label": data["name"], "count": data["total"]}]
    for dimension in ("fate", "side", "category"):
        rows += [{**head, "dimension": dimension, **line} for line in data[f"by_{dimension}"]]
    return _csv(TALLY_COLUMNS, rows)


TIMELINE_COLUMNS = ["conflict", "tally", "basis", "period", "as_of", "start", "count"]
TIMELINE_COLUMNS += ["cumulative", "late", "incomplete"]


def timeline_csv(data: dict[str, Any]) -> str:
    """Return a timeline as CSV: one row per period, and a last row counting the undated."""
    head = {k: data[k] for k in ("conflict", "tally", "basis", "period", "as_of")}
    rows = [{**head, **point} for point in data["points"]]
    rows.append({**head, "start": "undated", "count": data["undated"]})
    return _csv(TIMELINE_COLUMNS, rows)


CLAIM_COLUMNS = ["id", "conflict", "claimant", "claimed_on", "scope", "kind", "number"]
CLAIM_COLUMNS += ["number_high", "figure", "source_url", "documented_then", "documented_now"]


def claims_csv(rows: list[dict[str, Any]]) -> str:
    """Return claims as CSV, each beside the documented counts of its scope (never added in)."""
    return _csv(CLAIM_COLUMNS, rows)


ESTIMATE_COLUMNS = ["conflict", "tally", "as_of", "lists_kind", "stratum", "documented"]
ESTIMATE_COLUMNS += ["method", "lists", "observed", "total", "low", "high", "level", "model"]
ESTIMATE_COLUMNS += ["refused", "caveats"]


def _estimate_row(e: dict[str, Any], caveats: list[dict[str, str]]) -> dict[str, Any]:
    found = e["refusals"] + e["warnings"] + caveats
    return {
        **{k: e[k] for k in ("method", "observed", "total", "low", "high", "level", "model")},
        "lists": ";".join(f"{name}={n}" for name, n in e["list_sizes"].items()),
        "refused": e["refused"],
        "caveats": "; ".join(f"{c['code']}: {c['message']}" for c in found),
    }


def estimate_csv(data: dict[str, Any]) -> str:
    """Return an estimate as CSV: pooled, per category and their sum, each with its caveats."""
    head = {
        "conflict": data["conflict"],
        "tally": data["tally"],
        "as_of": data["as_of"],
        "lists_kind": data["kind"],
    }
    rows = [
        {
            **head,
            "stratum": "all",
            "documented": data["documented"],
            **_estimate_row(data["estimate"], data["notes"]),
        }
    ]
    for s in data["strata"]:
        rows.append(
            {**head, "stratum": s["key"], "documented": s["documented"]}
            | _estimate_row(s["estimate"], [])
        )
    if data["strata"]:
        refusal = data["stratified_refusal"]
        rows.append(
            {
                **head,
                "stratum": "sum of categories",
                "documented": sum(s["documented"] for s in data["strata"]),
                "total": data["stratified_total"],
                "low": data["stratified_low"],
                "high": data["stratified_high"],
                "refused": bool(refusal),
                "caveats": refusal,
            }
        )
    return _csv(ESTIMATE_COLUMNS, rows)


def export_format(fmt: str) -> str:
    """Return `fmt` if it is an export format, or raise InvalidInput naming the choices."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}")
    return fmt


def export_text(data: Any, fmt: str, to_csv: Any) -> str:
    """Return `data` as a file in `fmt`: JSON as is, or CSV through `to_csv`."""
    if export_format(fmt) == "json":
        return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    text: str = to_csv(data)
    return text


def export_response(text: str, *, fmt: str, filename: str) -> HttpResponse:
    """Return an export as a file download."""
    response = HttpResponse(text, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
