from modeltranslation.translator import TranslationOptions, register

from .models import ReturnReason


@register(ReturnReason)
class ReturnReasonTranslationOptions(TranslationOptions):
    fields = ("name",)
