from modeltranslation.translator import TranslationOptions, register

from .models import InvoiceType, PaymentMethod


@register(PaymentMethod)
class PaymentMethodTranslationOptions(TranslationOptions):
    fields = ("name",)


@register(InvoiceType)
class InvoiceTypeTranslationOptions(TranslationOptions):
    fields = ("name",)
