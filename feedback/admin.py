"""Receipts, problem cases and returns in the admin: to look up, never to rewrite or
delete (they are the order's history; Sales works on the order page). The return
reasons and their windows are the admin's to tune."""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from .models import (
    ProblemCase,
    ProblemPhoto,
    QuestionSet,
    Receipt,
    ReturnAddress,
    ReturnLine,
    ReturnParcelEvent,
    ReturnReason,
    ReturnRequest,
    Survey,
    SurveyAnswer,
    SurveyFollowUp,
    SurveyOptOut,
    SurveyQuestion,
    SurveySettings,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ["order", "confirmed_at", "how", "by"]
    list_filter = ["how", "confirmed_at"]
    search_fields = ["order__number"]
    list_select_related = ["order", "by"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ProblemPhotoInline(ReadOnlyInline):
    model = ProblemPhoto
    fields = ["content_type", "size", "width", "height", "uploaded_at"]


@admin.register(ProblemCase)
class ProblemCaseAdmin(ReadOnlyAdmin):
    list_display = ["order", "kind", "status", "opened_at", "due_at", "owner", "resolved_at"]
    list_filter = ["status", "kind", "opened_at"]
    search_fields = ["order__number", "details", "resolution"]
    list_select_related = ["order", "owner"]
    exclude = ["submission_key"]
    inlines = [ProblemPhotoInline]


@admin.register(ReturnReason)
class ReturnReasonAdmin(TranslationAdmin):
    list_display = [
        "name",
        "code",
        "window_days",
        "refund_freight",
        "restocking_fee",
        "position",
        "active",
    ]
    list_editable = ["window_days", "refund_freight", "restocking_fee", "position", "active"]

    def has_delete_permission(self, request, obj=None):
        # Returns name their reason: retire one by unticking "active".
        return False


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = [
        "line",
        "quantity",
        "approved_quantity",
        "received_quantity",
        "restocked",
        "written_off",
        "to_repair",
    ]


class ReturnParcelEventInline(ReadOnlyInline):
    model = ReturnParcelEvent
    fields = ["happened_at", "carrier", "type", "location", "description"]


@admin.register(ReturnRequest)
class ReturnRequestAdmin(ReadOnlyAdmin):
    list_display = ["order", "rma_number", "status", "reason", "requested_at", "outcome", "owner"]
    list_filter = ["status", "reason", "outcome", "mismatch", "requested_at"]
    search_fields = ["order__number", "rma_number", "return_tracking", "details", "answer"]
    list_select_related = ["order", "reason", "owner"]
    exclude = ["submission_key"]
    inlines = [ReturnLineInline, ReturnParcelEventInline]


@admin.register(ReturnAddress)
class ReturnAddressAdmin(admin.ModelAdmin):
    """One row (seeded by feedback/0006): change it, never add a second or delete it."""

    list_display = ["recipient", "phone", "city"]

    def has_add_permission(self, request):
        return not ReturnAddress.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


# ---------------------------------------------------------------------------
# Surveys: the settings and the question sets are the admin's to tune; surveys,
# answers and follow-ups are looked up here, never rewritten.


@admin.register(SurveySettings)
class SurveySettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "send_after", "remind_after", "valid_for", "low_score"]

    def has_add_permission(self, request):
        return not SurveySettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class SurveyQuestionInline(TranslationTabularInline):
    model = SurveyQuestion
    extra = 0
    fields = ["position", "code", "step", "kind", "ask_when", "text"]

    def _locked(self, obj):
        return obj is not None and obj.in_use

    def has_add_permission(self, request, obj=None):
        return not self._locked(obj)

    def has_change_permission(self, request, obj=None):
        return not self._locked(obj)

    def has_delete_permission(self, request, obj=None):
        return not self._locked(obj)


@admin.register(QuestionSet)
class QuestionSetAdmin(TranslationAdmin):
    """A set that has been sent is locked (its answers keep their meaning): copy it to
    a new version, edit the copy, then make the copy the active set."""

    list_display = ["version", "active", "created_at", "surveys_sent"]
    inlines = [SurveyQuestionInline]
    actions = ["copy_as_new_version", "make_active"]

    @admin.display(description=_("surveys sent"))
    def surveys_sent(self, obj):
        return obj.surveys.count()

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.in_use:
            return [f.name for f in obj._meta.fields if f.name != "active"] + [
                "intro_en",
                "intro_zh_hans",
                "intro_zh_hant",
            ]
        return ["active"]

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.in_use

    @admin.action(description=_("Copy as a new version (to edit)"))
    def copy_as_new_version(self, request, queryset):
        for question_set in queryset:
            copy = copy_question_set(question_set)
            self.message_user(
                request,
                _("Version %(version)s created: edit it, then make it active.")
                % {"version": copy.version},
                messages.SUCCESS,
            )

    @admin.action(description=_("Make active (new surveys use it)"))
    def make_active(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one question set."), messages.ERROR)
            return
        chosen = queryset.get()
        with transaction.atomic():
            QuestionSet.objects.filter(active=True).update(active=False)
            QuestionSet.objects.filter(pk=chosen.pk).update(active=True)
        self.message_user(
            request,
            _("Version %(version)s is active.") % {"version": chosen.version},
            messages.SUCCESS,
        )


def copy_question_set(question_set):
    """A new, inactive version with the same questions (all languages)."""
    with transaction.atomic():
        last = QuestionSet.objects.select_for_update().order_by("-version").first()
        copy = QuestionSet.objects.create(
            version=last.version + 1,
            intro_en=question_set.intro_en,
            intro_zh_hans=question_set.intro_zh_hans,
            intro_zh_hant=question_set.intro_zh_hant,
        )
        for question in question_set.questions.all():
            question.pk = None
            question.question_set = copy
            question.save()
    return copy


@admin.register(SurveyOptOut)
class SurveyOptOutAdmin(admin.ModelAdmin):
    list_display = ["email", "created_at", "by"]
    search_fields = ["email"]
    fields = ["email"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.by = request.user
        super().save_model(request, obj, form, change)

    def has_change_permission(self, request, obj=None):
        return False


class SurveyAnswerInline(ReadOnlyInline):
    model = SurveyAnswer
    fields = ["question", "value"]
    readonly_fields = fields


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin):
    list_display = ["order", "sent_at", "answered_at", "score", "recommend", "carrier"]
    list_filter = ["answered_at", "score", "question_set"]
    search_fields = ["order__number", "comment"]
    list_select_related = ["order"]
    inlines = [SurveyAnswerInline]


@admin.register(SurveyFollowUp)
class SurveyFollowUpAdmin(ReadOnlyAdmin):
    list_display = ["order", "step", "role", "due_at", "escalated_at", "resolved_at"]
    list_filter = ["role", "step", "resolved_at"]
    search_fields = ["order__number"]
    list_select_related = ["order"]
