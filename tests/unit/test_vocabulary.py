"""One vocabulary (reports/analytics/vocabulary.py) for Python and dbt: model families, vendors, roles, token fields.

dbt reads the lists from `vars:` in dbt_project.yml; these tests fail when the two differ, when a macro can give
a value outside its list, when a contract lacks a token field, or when Python or dbt YAML restates a list instead
of using the one definition.
"""

from __future__ import annotations

import json
import re

import yaml

from reports.analytics import vocabulary
from reports.analytics.answers import CostBreakdown
from tests.fixtures import REPO

DBT = REPO / "dbt_project"


def dbt_vars() -> dict:
    return yaml.safe_load((DBT / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]


def macro_body(name: str) -> str:
    text = (DBT / "macros" / "model_matching.sql").read_text(encoding="utf-8")
    return re.search(rf"{{% macro {name}\(.*?{{%- endmacro %}}", text, re.S).group(0)


def test_dbt_vars_hold_the_same_lists_as_python():
    assert dbt_vars()["model_families"] == list(vocabulary.MODEL_FAMILIES)
    assert dbt_vars()["vendors"] == list(vocabulary.VENDORS)
    assert dbt_vars()["roles"] == list(vocabulary.ROLES)


def test_every_family_has_a_label_and_other_is_the_fallback():
    assert set(vocabulary.MODEL_FAMILY_LABELS) == set(vocabulary.MODEL_FAMILIES)
    assert vocabulary.MODEL_FAMILIES[-1] == "other" and vocabulary.VENDORS[-1] == "other"


def test_the_family_macro_takes_its_families_from_the_var_and_the_vendor_macro_stays_inside_its_list():
    family = macro_body("model_family")
    assert "var('model_families')" in family and not re.search(r"then '\w+'", family)
    vendors = set(re.findall(r"then '(\w+)'", macro_body("model_vendor"))) | set(
        re.findall(r"else '(\w+)'", macro_body("model_vendor"))
    )
    assert vendors == set(vocabulary.VENDORS)


def test_the_api_answers_accept_exactly_the_vocabulary():
    schema = CostBreakdown.model_json_schema()["$defs"]
    assert schema["ModelFamilyCost"]["properties"]["model_family"]["enum"] == list(vocabulary.MODEL_FAMILIES)
    assert schema["VendorCost"]["properties"]["vendor"]["enum"] == list(vocabulary.VENDORS)


def test_the_token_fields_are_those_the_platform_event_schema_requires():
    schema = json.loads((REPO / "orchestration" / "ingest" / "platform_event.schema.json").read_text(encoding="utf-8"))
    assert schema["$defs"]["model_request"]["properties"]["usage"]["required"] == list(vocabulary.TOKEN_FIELDS)


def test_no_other_file_restates_a_list():
    """A list written out again (in Python, or in dbt YAML instead of `var(...)`) would drift from the one here."""
    restated = [
        re.compile(r"""["']opus["'],\s*["']sonnet["'],\s*["']haiku["']"""),
        re.compile(r"""["']anthropic["'],\s*["']openai["'],\s*["']google["']"""),
        re.compile(r"""["']member["'],\s*["']manager["'],\s*["']admin["']"""),
        re.compile(r"""["']input_tokens["'],\s*["']output_tokens["'],\s*["']cache_creation_input_tokens["']"""),
    ]
    files = [*REPO.glob("orchestration/**/*.py"), *REPO.glob("reports/**/*.py"), *DBT.glob("models/**/*.yml")]
    offenders = [
        str(path.relative_to(REPO))
        for path in files
        if path.name != "vocabulary.py"
        and "orchestration/sample" not in path.as_posix()  # the generator writes sample data, not a definition
        and any(pattern.search(path.read_text(encoding="utf-8")) for pattern in restated)
    ]
    assert offenders == []
