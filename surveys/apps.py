from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = _("Surveys")

    def ready(self) -> None:
        from audit import verbs

        from . import personal_data
        from .choices import SurveyVerb

        verbs.register("survey", SurveyVerb.choices)
        personal_data.register()
