from django.contrib import admin

from .models import Invitation, SurveyAssignment, SurveyResponse, SurveyTemplate


class AssignmentInline(admin.TabularInline):
    model = SurveyAssignment
    extra = 0


@admin.register(SurveyTemplate)
class SurveyTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "scale", "is_default", "reminder_enabled", "is_active")
    inlines = [AssignmentInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("subject_number", "round", "email", "created_at", "expires_at", "reminded_at")
    search_fields = ("subject_number", "email")
    # the hashes are useless to a person and the tokens are never stored
    exclude = ("token_hash", "reminder_token_hash")
    readonly_fields = ("message", "reminder_message")


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = ("invitation", "score", "answered_at", "updated_at")
