"""The product's vocabulary, one definition each: model families, vendors, directory roles and the token fields of
a model request. dbt reads the same lists from `vars:` in dbt_project/dbt_project.yml (the family macro, the
accepted-values tests); tests/unit/test_vocabulary.py fails when the two differ, and every Python use imports them
from here.
"""

from __future__ import annotations

from typing import Literal

# Families are matched by name in the lower-cased model id, in this order; a model matching none is `other`.
MODEL_FAMILIES = ("opus", "sonnet", "haiku", "other")
MODEL_FAMILY_LABELS = {"opus": "Opus", "sonnet": "Sonnet", "haiku": "Haiku", "other": "Other"}
ModelFamily = Literal[MODEL_FAMILIES]

# Who made a model, whoever serves it (Bedrock's Claude is anthropic); the rules are the macro model_vendor.
VENDORS = ("anthropic", "openai", "google", "other")
Vendor = Literal[VENDORS]

# A directory role decides what a person may see: their own data, their team's (managers), everything (admins).
ROLES = ("member", "manager", "admin")

# The token counts of one model request, as the platform's events and Claude Code's usage blocks name them and
# as the warehouse's request facts keep them.
TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
