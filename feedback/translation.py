from modeltranslation.translator import TranslationOptions, register

from .models import QuestionSet, ReturnReason, SurveyQuestion


@register(ReturnReason)
class ReturnReasonTranslationOptions(TranslationOptions):
    fields = ("name",)


@register(QuestionSet)
class QuestionSetTranslationOptions(TranslationOptions):
    fields = ("intro",)


@register(SurveyQuestion)
class SurveyQuestionTranslationOptions(TranslationOptions):
    fields = ("text",)
