"""Value checks: each field's value checked and normalised by its type and its meaning
(credit codes, phone numbers, emails, currencies, time zones, hashes).

A checker is built once per field (Entity.checker, validate_value_for): a bulk import runs
it for every value it stores.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from typing import Any

from desktop.errors import ValidationError
from desktop.schema.fields import Check, Field, FieldType

T = FieldType


_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]{2,}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


# per position: character -> its value times the position's weight (one lookup each)
_USCC_TERMS = tuple({c: i * w for i, c in enumerate(_USCC_ALPHABET)} for w in _USCC_WEIGHTS)


def uscc_check_char(first17: str) -> str | None:
    """The GB 32100-2015 check character for the first 17 characters, or None if any
    character is outside the code alphabet. Letters are allowed in every position the
    standard allows them (including the registration authority and region positions)."""
    if len(first17) != 17:
        return None
    try:
        total = sum(map(dict.__getitem__, _USCC_TERMS, first17))
    except KeyError:
        return None
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    code = code.strip().upper()
    return len(code) == 18 and uscc_check_char(code[:17]) == code[17]


_PHONE_SEPARATORS = re.compile(r"[\s\-().]")


@functools.cache
def _cn_mobile_pattern() -> re.Pattern[str]:
    import phonenumbers

    meta = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    mobile = meta.mobile if meta is not None else None
    pattern = mobile.national_number_pattern if mobile is not None else None
    if pattern is None:  # a phonenumbers release without China's metadata: not usable
        raise RuntimeError("phonenumbers has no mobile number pattern for China")
    return re.compile(pattern)


@functools.cache
def _cn_fixed_line() -> Callable[[str], bool]:
    """Does a national number match China's general and fixed-line descriptions (their
    patterns and lengths), as phonenumbers tests them for `is_valid_number`?"""
    import phonenumbers

    meta = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    descs = [meta.general_desc, meta.fixed_line] if meta is not None else []
    tests = [(re.compile(d.national_number_pattern), frozenset(d.possible_length))
             for d in descs if d is not None and d.national_number_pattern]
    if len(tests) != 2:
        raise RuntimeError("phonenumbers has no fixed-line number pattern for China")
    return lambda nsn: all((not lengths or len(nsn) in lengths) and pattern.fullmatch(nsn)
                           for pattern, lengths in tests)


def _cn_mobile(raw: str, region: str) -> str | None:
    """E.164 of a Chinese mobile number, or of a landline written with +86, 0086 or its
    trunk prefix 0, by the same metadata patterns phonenumbers uses, without its general
    parser (a tenth of the cost: bulk imports are mostly these)."""
    s = raw.replace(" ", "").replace("-", "")  # the usual separators, cheaper than translate
    if not s.isascii() or not s.lstrip("+").isdigit():
        s = _PHONE_SEPARATORS.sub("", s)
    landline = ""  # the national number of a landline, where it is certain
    if s.startswith("+86"):
        s = landline = s[3:]
    elif s.startswith("0086"):
        s = landline = s[4:]
    elif region != "CN":
        return None
    elif s.startswith("0"):  # the trunk prefix (an area code follows), which is stripped
        landline = s[1:]
    if not (s.isascii() and s.isdigit()):
        return None
    if len(s) == 11 and _cn_mobile_pattern().fullmatch(s):
        return "+86" + s
    # beginning 2-9, no other national prefix (0, or a carrier code 1xxxx) can be read
    # off it: phonenumbers tests it as it is against the patterns
    if landline[:1] in "23456789" and _cn_fixed_line()(landline):
        return "+86" + landline
    return None


def normalize_phone(raw: str, region: str = "CN") -> str:
    """E.164 form of a phone number; raises ValidationError if it is not a valid number."""
    fast = _cn_mobile(raw, region)
    if fast is not None:
        return fast
    import phonenumbers  # local import: the server and the store only need it here

    try:
        num = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"'{raw}' is not a phone number") from exc
    if not phonenumbers.is_valid_number(num):
        raise ValidationError(f"'{raw}' is not a valid phone number")
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


Checker = Callable[[Any], Any]


def _meaning_checker(f: Field) -> Checker | None:
    """The check by meaning (Check) of one stripped, non-empty text value."""
    if f.check is Check.PHONE:
        return normalize_phone
    if f.check is Check.EMAIL:
        def email(value: str) -> str:
            if not _EMAIL_RE.match(value):
                raise ValidationError(f"'{value}' is not an email address", field=f.name)
            return value.lower()
        return email
    if f.check is Check.USCC:
        def uscc(value: str) -> str:
            value = value.upper()
            if not is_valid_uscc(value):
                raise ValidationError(
                    f"'{value}' is not a valid unified social credit code (18 characters, "
                    "check digit per GB 32100)", field=f.name)
            return value
        return uscc
    if f.check is Check.CURRENCY:
        def currency(value: str) -> str:
            value = value.upper()
            if not (len(value) == 3 and value.isascii() and value.isalpha()):
                raise ValidationError(f"'{value}' is not an ISO 4217 currency code", field=f.name)
            return value
        return currency
    if f.check is Check.TIME_ZONE:
        def time_zone(value: str) -> str:
            from desktop.timezones import zone

            if zone(value) is None:
                raise ValidationError(f"'{value}' is not a time zone (an IANA name such as "
                                      "Asia/Shanghai or America/New_York)", field=f.name)
            return value
        return time_zone
    if f.check is Check.NAMED_LIST:
        def named_list(value: str) -> str:
            import json

            try:
                items = json.loads(value)
            except ValueError:
                items = None
            if not isinstance(items, list) or not all(
                    isinstance(i, dict) and isinstance(i.get("name"), str) and i["name"].strip()
                    for i in items):
                raise ValidationError(f"{f.label_en} must be a JSON list of objects, each "
                                      "with a name", field=f.name)
            return value
        return named_list
    if f.check is Check.SHA256:
        def sha256(value: str) -> str:
            if not _SHA256_RE.match(value):
                raise ValidationError(f"'{value}' is not a sha256 hash", field=f.name)
            return value
        return sha256
    return None


def _typed_checker(f: Field) -> Checker:
    """Checks and normalises one non-empty value of the field's type. Built once per
    field (Entity.checker): a bulk import runs it for every value it stores."""
    t = f.type
    label = f.label_en
    meaning = _meaning_checker(f)
    if t is T.TEXT:
        limit = f.max_length

        def text(value: Any) -> Any:
            if not isinstance(value, str):
                raise ValidationError(f"{label} must be text, not {type(value).__name__}")
            value = value.strip()
            if len(value) > limit:
                raise ValidationError(f"{label} is longer than {limit} characters")
            if not value:
                if f.required:
                    raise ValidationError(f"{label} is required")
                return None
            return meaning(value) if meaning else value
        return text
    if t in (T.NUMBER, T.INTEGER):
        whole = t is T.INTEGER

        def number(value: Any) -> Any:
            if isinstance(value, bool) or not isinstance(value, int | float):
                if isinstance(value, str):
                    try:
                        value = float(value.replace(",", "").strip())
                    except ValueError:
                        raise ValidationError(f"{label} must be a number, not '{value}'") from None
                else:
                    raise ValidationError(f"{label} must be a number")
            if value != value or value in (float("inf"), float("-inf")):
                raise ValidationError(f"{label} must be a finite number")
            if whole:
                if float(value) != int(value):
                    raise ValidationError(f"{label} must be a whole number")
                return int(value)
            return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)
        return number
    if t is T.DATE:
        def date(value: Any) -> Any:
            if not isinstance(value, str):
                raise ValidationError(f"{label} must be a date (YYYY-MM-DD)")
            try:
                return dt.date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                raise ValidationError(f"{label}: '{value}' is not a date (YYYY-MM-DD)") from None
        return date
    if t is T.DATETIME:
        def datetime(value: Any) -> Any:
            if not isinstance(value, str):
                raise ValidationError(f"{label} must be a date and time")
            try:
                parsed = dt.datetime.fromisoformat(value.strip())
            except ValueError:
                raise ValidationError(f"{label}: '{value}' is not a date and time") from None
            if parsed.tzinfo is None:
                raise ValidationError(f"{label}: '{value}' has no time zone")
            return to_utc_iso(parsed)
        return datetime
    if t is T.CHOICE:
        choices = frozenset(f.choices)

        def choice(value: Any) -> Any:
            if not isinstance(value, str) or value not in choices:
                raise ValidationError(f"{label} must be one of {', '.join(f.choices)}")
            return value
        return choice
    if t is T.REF:
        def ref(value: Any) -> Any:
            if not isinstance(value, str) or not _REF_RE.fullmatch(value):
                raise ValidationError(f"{label} must be a record id")
            return value
        return ref
    if t is T.BOOL:
        def boolean(value: Any) -> Any:
            if not isinstance(value, bool):
                raise ValidationError(f"{label} must be true or false")
            return value
        return boolean
    if t is T.LIST:
        def items(value: Any) -> Any:
            if isinstance(value, str):
                value = LIST_SEPARATORS.split(value)
            elif not isinstance(value, list | tuple):
                raise ValidationError(f"{label} must be a list of text")
            for v in value:  # a loop, not all(...): no generator for the usual two or three
                if not isinstance(v, str):
                    raise ValidationError(f"{label} must be a list of text")
            stripped = [s for s in map(str.strip, value) if s]
            if meaning:
                stripped = [meaning(s) for s in stripped]
            return list(dict.fromkeys(stripped)) or None
        return items
    raise ValueError(f"unsupported field type {t}")  # pragma: no cover


_REF_RE = re.compile(r"[0-9a-f-]{36}")
LIST_SEPARATORS = re.compile(r"[,;，；\n]")  # between the items of a list typed as text


def field_checker(f: Field) -> Checker:
    """validate_value for one field: empty values, then the typed check, with the
    field named in every error."""
    typed = _typed_checker(f)
    name, label, required = f.name, f.label_en, f.required

    def check(value: Any) -> Any:
        if value is None or value == "" or value == []:
            if required:
                raise ValidationError(f"{label} is required", field=name)
            return None
        try:
            return typed(value)
        except ValidationError as exc:
            if str(exc).startswith(label):
                exc.field = name
                raise
            raise ValidationError(f"{label}: {exc}", field=name) from None

    if f.type is T.TEXT and f.check is Check.NONE:
        limit = f.max_length

        def text(value: Any) -> Any:
            # Most fields, most values: stripped text within the limit, in one call (a bulk
            # import makes millions); everything else through `check`.
            if type(value) is str:
                stripped = value.strip()
                if stripped and len(stripped) <= limit:
                    return stripped
            return check(value)
        return text
    return check


def to_utc_iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def validate_value_for(f: Field, value: Any) -> Any:
    """validate_value for a Field that may not be installed (a type change's target)."""
    return _checker_of(f)(value)


@functools.lru_cache(maxsize=256)
def _checker_of(f: Field) -> Checker:
    return field_checker(f)
