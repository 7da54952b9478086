"""Public counting pages. Thin: selectors count, templates show; readers see verified records."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from attrition.claims.selectors import claims_beside
from attrition.counting import mse, selectors
from attrition.counting.estimates import KINDS, undocumented_estimate
from attrition.counting.timeline import BASES, PERIODS, timeline
from attrition.errors import AttritionError, NotFound


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
    context = {"report": report, "timeline": line, "bases": BASES, "periods": PERIODS}
    return render(request, "counting/tally.html", context)


@require_safe
def methodology_page(request: HttpRequest) -> HttpResponse:
    """Show how every public count is made, generated from the saved tallies' rules."""
    return render(request, "counting/methodology.html", {"entries": selectors.methodology()})


@require_safe
def claims_page(request: HttpRequest) -> HttpResponse:
    """List verified claims, each beside the documented count of its scope."""
    return render(request, "counting/claims.html", {"rows": claims_beside()})


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
    try:
        report = undocumented_estimate(
            conflict=tally.conflict,
            rule=selectors.tally_rule_at(tally=tally, as_of=None),
            kind=kind,
            stratify=request.GET.get("stratify") == "category",
        )
    except AttritionError as exc:
        return render(request, "counting/error.html", {"message": exc.message}, status=400)
    context = {"tally": tally, "report": report, "kinds": KINDS, "kind": kind}
    return render(request, "counting/estimate.html", context)
