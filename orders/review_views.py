"""The process review pack: the page, its PDF and its CSV for a period of local
dates. Any staff member may read it; the figures come from one selector call
(``orders.review.pack.build_pack``), aggregated in the database."""

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import translation

from . import printing
from .access import staff_required
from .review import export
from .review.forms import last_month, last_week, period_form
from .review.pack import build_pack


def _period(request):
    form = period_form(request.GET)
    if not form.is_valid():
        return form, None
    return form, (form.cleaned_data["start"], form.cleaned_data["end"])


def _context(form, pack=None) -> dict:
    week, month = last_week(), last_month()
    return {
        "form": form,
        "pack": pack,
        "quick": {"week": week, "month": month},
        "query": f"start={pack.start.isoformat()}&end={pack.end.isoformat()}" if pack else "",
    }


def _refused(request, form):
    return render(request, "orders/review/pack.html", _context(form), status=400)


@staff_required
def pack(request):
    form, period = _period(request)
    if period is None:
        return _refused(request, form)
    return render(request, "orders/review/pack.html", _context(form, build_pack(*period)))


@staff_required
def pack_pdf(request):
    form, period = _period(request)
    if period is None:
        return _refused(request, form)
    document = printing.render_pdf(
        "orders/review/pdf/pack.html",
        {**_context(form, build_pack(*period)), "language": translation.get_language()},
    )
    response = HttpResponse(document, content_type="application/pdf")
    start, end = period
    response["Content-Disposition"] = f'inline; filename="review-pack-{start}-{end}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@staff_required
def pack_csv(request):
    form, period = _period(request)
    if period is None:
        return _refused(request, form)
    response = HttpResponse(
        export.pack_csv(build_pack(*period)), content_type="text/csv; charset=utf-8"
    )
    start, end = period
    response["Content-Disposition"] = f'attachment; filename="review-pack-{start}-{end}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response
