"""Patch: the base of every `...Update` model. Omitted fields stay as they are; `null` is refused
for fields that cannot be empty (it would otherwise reach the database as a NOT NULL violation)."""

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator


class Patch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # fields that may be set to null on purpose (e.g. clearing a display name)
    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _no_null(cls, data: Any) -> Any:
        if isinstance(data, dict):
            bad = sorted(k for k, v in data.items() if v is None and k in cls.model_fields and k not in cls.nullable)
            if bad:
                raise ValueError(f"{', '.join(bad)} cannot be null; leave a field out to keep it")
        return data
