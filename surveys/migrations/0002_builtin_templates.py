"""The built-in templates: CSAT (the default) and NPS. An administrator may edit them."""

from django.db import migrations

BUILTIN = [
    {
        "name": "CSAT",
        "scale": "csat",
        "question_en": "How satisfied are you with how we handled your request?",
        "question_zh_hans": "您对我们处理您请求的方式满意吗？",
        "is_default": True,
    },
    {
        "name": "NPS",
        "scale": "nps",
        "question_en": "How likely are you to recommend us to a friend or colleague?",
        "question_zh_hans": "您有多大可能向朋友或同事推荐我们？",
        "is_default": False,
    },
]


def create(apps, schema_editor):
    SurveyTemplate = apps.get_model("surveys", "SurveyTemplate")
    for fields in BUILTIN:
        SurveyTemplate.objects.get_or_create(name=fields["name"], defaults=fields)


def remove(apps, schema_editor):
    SurveyTemplate = apps.get_model("surveys", "SurveyTemplate")
    SurveyTemplate.objects.filter(
        name__in=[b["name"] for b in BUILTIN], assignments__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("surveys", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
