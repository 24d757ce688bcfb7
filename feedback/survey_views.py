"""The customer's survey page (a signed link, no account), the "no more surveys" link,
and the staff's resolution of a survey follow-up."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from orders.access import staff_required
from orders.roles import has_role
from orders.services import OrderActionError
from orders.views import render_detail
from orders.web import error_status, refused

from . import surveys
from .models import SurveyFollowUp
from .survey_forms import ResolveFollowUpForm, SurveyForm
from .views import _private, _too_many, public_ratelimit


def _in_customer_language(request, survey):
    """The page speaks the language the survey was written in, unless the visitor
    chose one with the language switcher (its cookie)."""
    if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        return
    language = survey.order.contact_language or survey.order.customer.language
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = language


def _invalid_link(request, error, status):
    response = render(
        request, "feedback/survey_closed.html", {"message": error.message}, status=status
    )
    return _private(response)


@require_http_methods(["GET", "HEAD", "POST"])
@public_ratelimit
def survey(request, token):
    """The survey: an overall score, the likelihood to recommend, the questions about
    the steps this customer saw, a comment. Answered once."""
    try:
        found = surveys.survey_for_token(token)
    except surveys.SurveyLinkInvalid as error:
        return _invalid_link(request, error, 404)
    _in_customer_language(request, found)
    if found.answered:
        status = 409 if request.method == "POST" else 200
        return _private(
            render(request, "feedback/survey_thanks.html", {"survey": found}, status=status)
        )
    if found.expired():
        return _invalid_link(
            request,
            surveys.SurveyExpired(_("This survey has closed. Thank you all the same.")),
            410,
        )
    questions = surveys.asked_questions(found)
    form = SurveyForm(request.POST or None, questions=questions)
    status = 200
    if request.method == "POST":
        if getattr(request, "limited", False):
            _too_many(request)
            status = 429
        elif form.is_valid():
            try:
                surveys.answer(
                    found,
                    score=form.cleaned_data["score"],
                    recommend=form.cleaned_data["recommend"],
                    comment=form.cleaned_data["comment"],
                    answers=form.answers,
                )
            except surveys.SurveyAnswered:
                return _private(
                    render(request, "feedback/survey_thanks.html", {"survey": found}, status=409)
                )
            except OrderActionError as error:
                status = refused(request, error)
            else:
                return redirect("feedback:survey", token=token)
        else:
            status = 400
    context = {
        "survey": found,
        "order": found.order,
        "form": form,
        "opt_out_token": surveys.opt_out_token(found),
    }
    return _private(render(request, "feedback/survey.html", context, status=status))


@require_http_methods(["GET", "HEAD", "POST"])
@public_ratelimit
def opt_out(request, token):
    """'Send me no more surveys': a confirmation page, then one click."""
    try:
        found = surveys.survey_for_token(token, salt=surveys.OPT_OUT_SALT)
    except surveys.SurveyLinkInvalid as error:
        return _invalid_link(request, error, 404)
    _in_customer_language(request, found)
    done = False
    status = 200
    if request.method == "POST":
        if getattr(request, "limited", False):
            _too_many(request)
            status = 429
        else:
            surveys.opt_out(found)
            done = True
    context = {"survey": found, "done": done}
    return _private(render(request, "feedback/survey_opt_out.html", context, status=status))


@require_POST
@staff_required
def resolve_follow_up(request, pk):
    """The step's owner says what was done about a low score; back to the order."""
    follow_up = get_object_or_404(SurveyFollowUp.objects.select_related("order"), pk=pk)
    order = follow_up.order
    if not has_role(request.user, follow_up.role):
        messages.error(request, _("This follow-up is for another team."))
        return render_detail(request, order.number, status=403)
    form = ResolveFollowUpForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return render_detail(request, order.number, status=400)
    try:
        surveys.resolve_follow_up(pk, by=request.user, resolution=form.cleaned_data["resolution"])
    except OrderActionError as error:
        messages.error(request, error.message)
        return render_detail(request, order.number, status=error_status(error))
    messages.success(request, _("Follow-up resolved; it is on the order's timeline."))
    return redirect(order.get_absolute_url() + "#survey-panel")
