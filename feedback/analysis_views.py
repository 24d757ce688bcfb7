"""The survey analysis page (step 8), for Sales and the managers."""

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from orders.access import sales_required

from . import analysis as selectors
from .analysis_forms import SurveyAnalysisForm


@require_GET
@sales_required
def analysis(request):
    """What customers answered in a period: overall figures, weeks, questions,
    products, carriers, channels, salespeople and the comments. Bad filters: 400 with
    the form's message, nothing counted."""
    form = SurveyAnalysisForm(request.GET)
    if not form.is_valid():
        return render(
            request, "feedback/survey_analysis.html", {"form": form, "report": None}, status=400
        )
    report = selectors.survey_analysis(**form.filters(), page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "report": report,
        "charts": selectors.charts(report),
        "breakdowns": [
            ("product", _("By product"), _("Product"), report.by_product),
            ("carrier", _("By carrier"), _("Carrier"), report.by_carrier),
            ("channel", _("By channel"), _("Channel"), report.by_channel),
            ("salesperson", _("By salesperson"), _("Salesperson"), report.by_salesperson),
        ],
        "query": query.urlencode(),
    }
    return render(request, "feedback/survey_analysis.html", context)
