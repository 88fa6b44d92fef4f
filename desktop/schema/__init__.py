"""Entities, fields, types and sync rules: the one source of truth.

Pure data plus the pure functions that interpret it (value checks, the merge rule).
The local store, the sync client and the server all read this package, so a field
declared here is stored, validated, searched and synced everywhere without more code.

Every name is importable from `desktop.schema`; each lives in the module that says what
it holds, each importing only modules listed before it:

    fields          FieldType, Check, Role, Field: the field model (pure data)
    checks          value checks by type and meaning (USCC, phone, email...), to_utc_iso
    entity_type     Entity, validate_value, validate_changes
    merge_rule      HLC stamps, last writer wins, overwrite and redirect markers
    core_entities   account, contact, deal, activity, attachment, contract
    admin_rules     pipeline rules, duplicate rules, field definitions, export rights
    audit           merge log, export log, erasure records
    leads           lead, lead claim, assignment rules, capacities, escalation policy
    finance         currencies, payment, exchange rate
    registry        BUILTIN_ENTITIES (their order), DEFAULT_CUSTOM_FIELDS, ENTITIES, entity()
    erasure         what erasing a person writes over their values
    field_defs      custom fields an admin defines as data, installed into ENTITIES
    type_change     coerce_value: a custom field's values converted to a new type
"""

from __future__ import annotations

from desktop.schema.admin_rules import (
    CUSTOM_FIELD_ENTITIES,
    CUSTOM_FIELD_TYPES,
    DEDUPE_ACTIONS,
    DEDUPE_RULE,
    EXPORT_SETTING,
    FIELD_DEF,
    FOLLOWUP_RULE,
    PIPELINE_RULE,
    STAGE_PROBABILITY,
)
from desktop.schema.audit import (
    ERASURE,
    EXPORT_LOG,
    MERGE_LOG,
)
from desktop.schema.checks import (
    Checker,
    is_valid_uscc,
    normalize_phone,
    to_utc_iso,
    uscc_check_char,
    validate_value_for,
)
from desktop.schema.core_entities import (
    ACCOUNT,
    ACTIVITY,
    ACTIVITY_KINDS,
    ATTACHMENT,
    CONTACT,
    CONTRACT,
    DEAL,
    LIFECYCLE,
    STAGES,
)
from desktop.schema.entity_type import (
    SHARED_OWNER,
    Entity,
    validate_changes,
    validate_value,
)
from desktop.schema.erasure import (
    ERASED_TEXT,
    erasure_blanks,
    is_erased_value,
)
from desktop.schema.field_defs import (
    FIELD_NAME_RE,
    MAX_CHOICES,
    MAX_CUSTOM_FIELDS,
    RESERVED_FIELD_NAMES,
    FieldDefError,
    check_field_def,
    field_def_id,
    field_from_def,
    install_field_defs,
    normalize_field_name,
    reset_field_defs,
    schema_generation,
    visible_fields,
)
from desktop.schema.fields import (
    ADMIN_ONLY,
    DELETED,
    EXTERNAL_IDS,
    EXTERNAL_IDS_FIELD,
    SCHEMA_VERSION,
    SERVER_ONLY,
    Check,
    Field,
    FieldType,
    Role,
    external_ids_of,
    external_ids_value,
    is_server_only,
    may_write,
)
from desktop.schema.finance import (
    CURRENCIES,
    FINANCE_WRITES,
    FX_RATE,
    PAYMENT,
    PAYMENT_KINDS,
    PAYMENT_METHODS,
)
from desktop.schema.leads import (
    LEAD,
    LEAD_CLAIM,
    LEAD_CLAIM_ACTIONS,
    LEAD_CLAIM_RESULTS,
    LEAD_OPEN,
    LEAD_OUTCOMES,
    LEAD_POLICY,
    LEAD_REP,
    LEAD_RULE,
    LEAD_STATUSES,
    SERVER_DECIDES,
)
from desktop.schema.merge_rule import (
    HLC_RE,
    MAX_REDIRECTS,
    MERGED_INTO,
    OVERWROTE,
    REDIRECTED,
    is_hlc,
    overwritten_stamps,
    redirected_stamp,
    wins,
)
from desktop.schema.registry import (
    BUILTIN_ENTITIES,
    DEFAULT_CUSTOM_FIELDS,
    ENTITIES,
    build_entities,
    entity,
    load_custom_fields,
)
from desktop.schema.type_change import (
    KEPT,
    coerce_value,
)

F = Field  # the short names the declarations use
T = FieldType

__all__ = [  # every name the module desktop/schema.py had
    "ACCOUNT", "ACTIVITY", "ACTIVITY_KINDS", "ADMIN_ONLY", "ATTACHMENT", "BUILTIN_ENTITIES",
    "CONTACT", "CONTRACT", "CURRENCIES", "CUSTOM_FIELD_ENTITIES", "CUSTOM_FIELD_TYPES", "DEAL",
    "DEDUPE_ACTIONS", "DEDUPE_RULE", "DEFAULT_CUSTOM_FIELDS", "DELETED", "ENTITIES",
    "ERASED_TEXT", "ERASURE", "EXPORT_LOG", "EXPORT_SETTING", "EXTERNAL_IDS",
    "EXTERNAL_IDS_FIELD", "FIELD_DEF", "FIELD_NAME_RE", "FINANCE_WRITES", "FOLLOWUP_RULE",
    "FX_RATE", "HLC_RE",
    "KEPT", "LEAD", "LEAD_CLAIM", "LEAD_CLAIM_ACTIONS", "LEAD_CLAIM_RESULTS", "LEAD_OPEN",
    "LEAD_OUTCOMES", "LEAD_POLICY", "LEAD_REP", "LEAD_RULE", "LEAD_STATUSES", "LIFECYCLE",
    "MAX_CHOICES", "MAX_CUSTOM_FIELDS", "MAX_REDIRECTS", "MERGED_INTO", "MERGE_LOG",
    "OVERWROTE", "PAYMENT", "PAYMENT_KINDS", "PAYMENT_METHODS", "PIPELINE_RULE", "REDIRECTED",
    "RESERVED_FIELD_NAMES", "SCHEMA_VERSION", "SERVER_DECIDES", "SERVER_ONLY", "SHARED_OWNER",
    "STAGES", "STAGE_PROBABILITY", "Check", "Checker", "Entity", "F", "Field", "FieldDefError",
    "FieldType", "Role", "T", "build_entities", "check_field_def", "coerce_value", "entity",
    "erasure_blanks", "external_ids_of", "external_ids_value", "field_def_id", "field_from_def",
    "install_field_defs", "is_erased_value", "is_hlc", "is_server_only", "is_valid_uscc",
    "load_custom_fields", "may_write", "normalize_field_name", "normalize_phone",
    "overwritten_stamps", "redirected_stamp", "reset_field_defs", "schema_generation",
    "to_utc_iso", "uscc_check_char", "validate_changes", "validate_value", "validate_value_for",
    "visible_fields", "wins",
]
