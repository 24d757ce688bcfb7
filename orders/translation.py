from modeltranslation.translator import TranslationOptions, register

from .models import ProcessStep


@register(ProcessStep)
class ProcessStepTranslationOptions(TranslationOptions):
    fields = ("name", "how", "notes")
