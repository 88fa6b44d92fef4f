"""`Entity`: one type of record (its fields, title, ownership), with the checkers of its
fields built on first use, and validate_value / validate_changes over a record's fields."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from desktop.errors import ValidationError
from desktop.schema.checks import field_checker
from desktop.schema.fields import DELETED, Field


@dataclass(frozen=True)
class Entity:
    name: str
    label_en: str
    label_zh: str
    fields: tuple[Field, ...]
    title_field: str = "name"
    owned: bool = True  # has an `owner` deciding who sees it (else follows its parent)
    parent_field: str | None = None  # for non-owned records: the ref whose owner decides
    # (field, time field): when a write changes the field, the store sets the time field
    # to that moment, however the change was made (board, dialog, command line, import)
    change_times: tuple[tuple[str, str], ...] = ()
    _by_name: dict[str, Field] = field(default_factory=dict, compare=False, repr=False)
    _checkers: dict[str, Callable[[Any], Any]] = field(
        default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({f.name: f for f in self.fields})

    def field(self, name: str) -> Field:
        try:
            return self._by_name[name]
        except KeyError:
            raise ValidationError(f"{self.name} has no field '{name}'", field=name) from None

    def has_field(self, name: str) -> bool:
        return name in self._by_name

    def checker(self, name: str) -> Callable[[Any], Any]:
        """validate_value for one field, built on first use."""
        check = self._checkers.get(name)
        if check is None:
            check = self._checkers[name] = field_checker(self.field(name))
        return check

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def builtin_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.custom)

    @property
    def custom_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.custom)

    def label(self, lang: str) -> str:
        return self.label_zh if lang.startswith("zh") else self.label_en


SHARED_OWNER = "*"  # server-side owner of records that belong to everyone


def _deleted_checker(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("deleted must be true or false", field=DELETED)
    return value


def validate_value(ent: Entity, name: str, value: Any) -> Any:
    """Check and normalise one field value; return the value to store.

    Raises ValidationError (with `.field`) when the value does not fit.
    """
    if name == DELETED:
        return _deleted_checker(value)
    return ent.checker(name)(value)


def validate_changes(ent: Entity, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Validate several fields at once; the first bad one raises."""
    built = ent._checkers
    return {name: (built.get(name)
                   or (_deleted_checker if name == DELETED else ent.checker(name)))(value)
            for name, value in changes.items()}
