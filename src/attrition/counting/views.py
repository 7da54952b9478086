"""Public counting pages. Thin: selectors count, templates show; readers see verified records."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from attrition.claims.selectors import claims_beside
from attrition.counting import mse, selectors
from attrition.counting.estimates import KINDS, tally_estimate
from attrition.counting.exports import FORMATS
from attrition.counting.timeline import BASES, PERIODS, timeline
from attrition.errors import AttritionError, NotFound


def _downloads(name: str, args: list[str], **query: str) -> list[tuple[str, str]]:
    """Return (format, URL) of the API's file export `name` for each export format."""
    path = reverse(f"api:{name}", args=args)
    kept = {k: v for k, v in query.items() if v}
    return [(fmt, f"{path}?{urlencode({'format': fmt, **kept})}") for fmt in FORMATS]


def _choice(request: HttpRequest, name: str, choices: tuple[str, ...], default: str) -> str:
    value = request.GET.get(name, default)
    if value not in choices:
        raise Http404(f"{name} must be one of {', '.join(choices)}")
    return value


@require_safe
def tallies_page(request: HttpRequest) -> HttpResponse:
    """List the public saved tallies with their counts, sentences and permalinks."""
    reports = [selectors.tally_report(tally=t) for t in selectors.tallies_public()]
    return render(request, "counting/tallies.html", {"reports": reports})


@require_safe
def tally_page(request: HttpRequest, conflict: str, slug: str) -> HttpResponse:
    """Show one tally now or as of a moment, with its breakdown and timeline."""
    try:
        tally = selectors.tally_get(conflict_slug=conflict, slug=slug)
        as_of = selectors.as_of_parse(request.GET.get("as_of"))
    except NotFound as exc:
        raise Http404(exc.message) from None
    except AttritionError as exc:
        return render(request, "counting/error.html", {"message": exc.message}, status=400)
    basis = _choice(request, "basis", BASES, "first_seen")
    period = _choice(request, "period", PERIODS, "month")
    report = selectors.tally_report(tally=tally, as_of=as_of)
    line = timeline(
        conflict=tally.conflict, rule=report.rule, basis=basis, period=period, as_of=report.as_of
    )
    args = [tally.conflict.slug, tally.slug]
    as_of_text = selectors.as_of_text(report.as_of)
    context = {
        "report": report,
        "timeline": line,
        "bases": BASES,
        "periods": PERIODS,
        "downloads": _downloads("tally_export", args, as_of=as_of_text),
        "timeline_downloads": _downloads(
            "tally_timeline_export", args, basis=basis, period=period, as_of=as_of_text
        ),
    }
    return render(request, "counting/tally.html", context)


@require_safe
def methodology_page(request: HttpRequest) -> HttpResponse:
    """Show how every public count is made, generated from the saved tallies' rules."""
    return render(request, "counting/methodology.html", {"entries": selectors.methodology()})


@require_safe
def claims_page(request: HttpRequest) -> HttpResponse:
    """List verified claims, each beside the documented count of its scope."""
    context = {"rows": claims_beside(), "downloads": _downloads("claim_export", [])}
    return render(request, "counting/claims.html", context)


@require_safe
def estimates_methods_page(request: HttpRequest) -> HttpResponse:
    """Say what the estimates of undocumented losses assume, and when not to trust them."""
    context = {
        "tallies": selectors.tallies_public(),
        "kinds": KINDS,
        "min_overlap": mse.MIN_OVERLAP,
        "small_overlap": mse.SMALL_OVERLAP,
        "max_lists": mse.MAX_LISTS,
        "share": round(mse.EXTRAPOLATION_SHARE * 100),
    }
    return render(request, "counting/estimates_methods.html", context)


@require_safe
def estimate_page(request: HttpRequest, conflict: str, slug: str) -> HttpResponse:
    """Show the estimate of a tally's total, documented or not, from its sources' overlap."""
    try:
        tally = selectors.tally_get(conflict_slug=conflict, slug=slug)
    except NotFound as exc:
        raise Http404(exc.message) from None
    kind = _choice(request, "lists", KINDS, "platform")
    stratify = request.GET.get("stratify") == "category"
    try:
        as_of = selectors.as_of_parse(request.GET.get("as_of"))
        report = tally_estimate(tally=tally, kind=kind, stratify=stratify, as_of=as_of)
    except AttritionError as exc:
        return render(request, "counting/error.html", {"message": exc.message}, status=400)
    as_of_text = selectors.as_of_text(report.as_of) if report.as_of is not None else ""
    query = {"lists": kind, "as_of": as_of_text}
    path = reverse("counting:estimate", args=[tally.conflict.slug, tally.slug])
    permalink = f"{path}?{urlencode({**query, **({'stratify': 'category'} if stratify else {})})}"
    context = {
        "tally": tally,
        "report": report,
        "kinds": KINDS,
        "kind": kind,
        "permalink": permalink,
        "downloads": _downloads(
            "estimate_export",
            [tally.conflict.slug, tally.slug],
            **query,
            stratify="true" if stratify else "",
        ),
    }
    return render(request, "counting/estimate.html", context)
