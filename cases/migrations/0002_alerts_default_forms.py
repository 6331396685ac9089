"""The default follow-up questionnaire, wound-follow-up v1 (frozen here: a template version
never changes; cases.actions.forms creates it too if a flushed test database lacks it)."""

from django.db import migrations

SCHEMA = {
    "title": {
        "en": "Wound follow-up",
        "fr": "Suivi de la plaie",
        "es": "Seguimiento de la herida"
    },
    "questions": [
        {
            "id": "pain",
            "type": "scale",
            "label": {
                "en": "How much pain do you have today? (0: none, 10: the worst)",
                "fr": "Quelle douleur ressentez-vous aujourd'hui ? (0 : aucune, 10 : la pire)",
                "es": "¿Cuánto dolor tiene hoy? (0: ninguno, 10: el peor)"
            },
            "min": 0,
            "max": 10,
            "required": True
        },
        {
            "id": "fever",
            "type": "yes_no",
            "label": {
                "en": "Have you had a fever?",
                "fr": "Avez-vous eu de la fièvre ?",
                "es": "¿Ha tenido fiebre?"
            },
            "required": True
        },
        {
            "id": "spreading_redness",
            "type": "yes_no",
            "label": {
                "en": "Is the redness around the wound spreading?",
                "fr": "La rougeur autour de la plaie s'étend-elle ?",
                "es": "¿Se está extendiendo el enrojecimiento alrededor de la herida?"
            },
            "required": True
        },
        {
            "id": "discharge",
            "type": "choice",
            "label": {
                "en": "Does fluid come out of the wound?",
                "fr": "Du liquide s'écoule-t-il de la plaie ?",
                "es": "¿Sale líquido de la herida?"
            },
            "choices": [
                {
                    "value": "none",
                    "label": {
                        "en": "None",
                        "fr": "Aucun",
                        "es": "Nada"
                    }
                },
                {
                    "value": "some",
                    "label": {
                        "en": "Some clear fluid",
                        "fr": "Un peu, clair",
                        "es": "Algo, claro"
                    }
                },
                {
                    "value": "pus",
                    "label": {
                        "en": "Pus",
                        "fr": "Du pus",
                        "es": "Pus"
                    }
                }
            ],
            "required": True
        },
        {
            "id": "odour",
            "type": "yes_no",
            "label": {
                "en": "Does the wound smell bad?",
                "fr": "La plaie sent-elle mauvais ?",
                "es": "¿La herida huele mal?"
            },
            "required": True
        },
        {
            "id": "dressing_changed",
            "type": "yes_no",
            "label": {
                "en": "Was the dressing changed as planned?",
                "fr": "Le pansement a-t-il été changé comme prévu ?",
                "es": "¿Se cambió el apósito como estaba previsto?"
            },
            "required": True
        }
    ]
}


def create(apps, schema_editor):
    FormTemplate = apps.get_model("cases", "FormTemplate")
    if not FormTemplate.objects.filter(
        organisation__isnull=True, slug="wound-follow-up", version=1
    ).exists():
        FormTemplate.objects.create(slug="wound-follow-up", version=1, schema=SCHEMA)


def remove(apps, schema_editor):
    FormTemplate = apps.get_model("cases", "FormTemplate")
    FormTemplate.objects.filter(
        organisation__isnull=True, slug="wound-follow-up", version=1, responses__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
