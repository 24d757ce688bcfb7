"""The customer's survey form (built from the survey's question set) and the staff's
follow-up resolution."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import RECOMMEND_MAX, SCORE_MAX, QuestionKind

COMMENT_MAX_LENGTH = 2000
RESOLUTION_MAX_LENGTH = 2000

SCORE_CHOICES = [(str(n), str(n)) for n in range(1, SCORE_MAX + 1)]
RECOMMEND_CHOICES = [(str(n), str(n)) for n in range(RECOMMEND_MAX + 1)]


def _yes_no():
    return [("1", _("Yes")), ("0", _("No"))]


class SurveyForm(forms.Form):
    """Overall score (required), likelihood to recommend, one field per question asked
    (``q<question pk>``, optional) and a comment."""

    score = forms.TypedChoiceField(
        label=_("Overall, how satisfied are you with this order?"),
        help_text=_("1 = very dissatisfied, 5 = very satisfied"),
        choices=SCORE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose a score from 1 to 5.")},
    )
    recommend = forms.TypedChoiceField(
        label=_("How likely are you to recommend us to a friend or colleague?"),
        help_text=_("0 = not at all likely, 10 = extremely likely"),
        choices=RECOMMEND_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us?"),
        max_length=COMMENT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, questions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            if question.kind == QuestionKind.YES_NO:
                choices, help_text = _yes_no(), ""
            else:
                choices, help_text = SCORE_CHOICES, _("1 = very poor, 5 = excellent")
            self.fields[f"q{question.pk}"] = forms.TypedChoiceField(
                label=question.text,
                help_text=help_text,
                choices=choices,
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )
        # The comment last, after the step questions.
        self.order_fields(["score", "recommend", *(f"q{q.pk}" for q in self.questions)])

    @property
    def answers(self) -> dict[int, int]:
        """{question pk: value} for the questions answered."""
        return {
            question.pk: self.cleaned_data[f"q{question.pk}"]
            for question in self.questions
            if self.cleaned_data.get(f"q{question.pk}") is not None
        }


class ResolveFollowUpForm(forms.Form):
    resolution = forms.CharField(
        label=_("What was done?"),
        max_length=RESOLUTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "E.g. called the customer, apologised, changed the packing. "
            "Kept on the order's timeline."
        ),
        error_messages={"required": _("Say what was done about the low score.")},
    )
