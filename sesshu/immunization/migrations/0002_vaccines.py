from django.db import migrations

# code, Japanese name, English name, category (A類/B類 under 予防接種法)
VACCINES = [
    ("DPT-IPV-Hib", "5種混合", "DTaP-IPV-Hib", "A"),
    ("DPT-IPV", "4種混合", "DTaP-IPV", "A"),
    ("Hib", "ヒブ", "Haemophilus influenzae type b", "A"),
    ("PCV", "小児肺炎球菌", "Pneumococcal conjugate (children)", "A"),
    ("HepB", "B型肝炎", "Hepatitis B", "A"),
    ("Rota1", "ロタウイルス（1価）", "Rotavirus (monovalent)", "A"),
    ("Rota5", "ロタウイルス（5価）", "Rotavirus (pentavalent)", "A"),
    ("BCG", "BCG", "BCG", "A"),
    ("MR", "麻しん風しん混合", "Measles-rubella", "A"),
    ("VAR", "水痘", "Varicella", "A"),
    ("JE", "日本脳炎", "Japanese encephalitis", "A"),
    ("DT", "二種混合", "Diphtheria-tetanus", "A"),
    ("HPV", "ヒトパピローマウイルス感染症", "Human papillomavirus", "A"),
    ("Flu", "高齢者インフルエンザ", "Influenza (older adults)", "B"),
    ("PPSV23", "高齢者肺炎球菌", "Pneumococcal polysaccharide (older adults)", "B"),
    ("HZ-live", "帯状疱疹（生ワクチン）", "Herpes zoster (live)", "B"),
    ("HZ-RZV", "帯状疱疹（組換え）", "Herpes zoster (recombinant)", "B"),
    ("COVID-19", "新型コロナウイルス感染症", "COVID-19", "B"),
]


def load(apps, schema_editor):
    Vaccine = apps.get_model("immunization", "Vaccine")
    for order, (code, ja, en, category) in enumerate(VACCINES, start=1):
        Vaccine.objects.update_or_create(
            code=code, defaults={"name_ja": ja, "name_en": en, "category": category, "sort_order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("immunization", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
