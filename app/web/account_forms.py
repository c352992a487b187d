"""The account settings forms: what people type, turned into the API's own models (so the API's
validation is the form's), and the models turned back into fields to show.

A field left empty means "off" (no cap, no filter). A model's refusal becomes `FormRejected`:
each problem's message under the field it names, and the values as typed, to show again.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.accounts.schemas import AccountUpdate, Limits, StopWords
from app.filters.schemas import Filters
from app.models import Account
from app.models.account import DEFAULT_STOP_REPLY
from app.web.forms import Form

M = TypeVar("M", bound=BaseModel)
FORM_WIDE = "_form"
LIMIT_FIELDS = ("max_per_hour", "max_per_day", "min_interval_seconds", "quiet_hours_start", "quiet_hours_end",
                "timezone", "max_queue_age_seconds")
FILTER_NUMBERS = ("min_followers", "min_account_age_days", "max_hashtags", "max_mentions", "max_links",
                  "duplicate_window_minutes")
FILTER_FLAGS = ("exclude_replies", "exclude_reposts", "exclude_quotes")
FILTER_MARKS = ("content_warnings", "sensitive")  # allow, skip or review
FILTER_LABELS = ("labels_skip", "labels_review")


class FormRejected(Exception):
    """The model refused the form: messages by field, and the values as typed."""

    def __init__(self, errors: dict[str, str], values: dict[str, Any]):
        super().__init__(errors)
        self.errors = errors
        self.values = values


def checked(model: type[M], data: dict[str, Any], values: dict[str, Any]) -> M:
    """`model` built from `data`; FormRejected naming each field it refuses (the first problem of each)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for problem in exc.errors():
            where = str(problem["loc"][0]) if problem["loc"] else FORM_WIDE
            errors.setdefault(where, problem["msg"].removeprefix("Value error, "))
        raise FormRejected(errors, values) from exc


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _blank_none(values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: (values[name] if values[name] != "" else None) for name in names}


# -- account: enabled and sources ------------------------------------------------------------


def account_values(account: Account) -> dict[str, Any]:
    return {"enabled": account.enabled, "sources": "\n".join(account.sources or [])}


def account_update(form: Form) -> AccountUpdate:
    """The enabled switch and the sources (one a line) as the PATCH the API takes."""
    sources = form.get("sources")
    values = {"enabled": form.has("enabled"), "sources": sources}
    return checked(AccountUpdate, {"enabled": values["enabled"], "sources": _lines(sources)}, values)


# -- limits ----------------------------------------------------------------------------------


def limits_values(limits: Limits) -> dict[str, Any]:
    return {name: "" if getattr(limits, name) is None else str(getattr(limits, name)) for name in LIMIT_FIELDS}


def limits_of(form: Form) -> Limits:
    """All limits, as PATCH {limits} replaces them: an empty field is no cap (0 s for the interval, UTC)."""
    values = {name: form.get(name).strip() for name in LIMIT_FIELDS}
    data = _blank_none(values, LIMIT_FIELDS)
    data["min_interval_seconds"] = data["min_interval_seconds"] or 0
    data["timezone"] = data["timezone"] or "UTC"
    return checked(Limits, data, values)


# -- filters ---------------------------------------------------------------------------------


def filters_values(filters: Filters) -> dict[str, Any]:
    values: dict[str, Any] = {name: "" if getattr(filters, name) is None else str(getattr(filters, name))
                              for name in FILTER_NUMBERS}
    values.update({name: getattr(filters, name) for name in FILTER_FLAGS})
    values["languages"] = ", ".join(filters.languages)
    values["banned_words"] = "\n".join(filters.banned_words)
    values.update({name: getattr(filters, name).value for name in FILTER_MARKS})
    values.update({name: ", ".join(getattr(filters, name)) for name in FILTER_LABELS})
    return values


def filters_of(form: Form) -> Filters:
    """Every filter, as PUT replaces them: an empty field or an unticked box is off."""
    values: dict[str, Any] = {name: form.get(name).strip() for name in FILTER_NUMBERS}
    values.update({name: form.has(name) for name in FILTER_FLAGS})
    values["languages"], values["banned_words"] = form.get("languages"), form.get("banned_words")
    values.update({name: form.get(name, "allow") or "allow" for name in FILTER_MARKS})
    values.update({name: form.get(name) for name in FILTER_LABELS})
    data = {**_blank_none(values, FILTER_NUMBERS), **{name: values[name] for name in FILTER_FLAGS},
            "languages": [w for w in re.split(r"[\s,]+", values["languages"]) if w],
            "banned_words": _lines(values["banned_words"]),
            **{name: values[name] for name in FILTER_MARKS},
            **{name: [w for w in re.split(r"[\s,]+", values[name]) if w] for name in FILTER_LABELS}}
    return checked(Filters, data, values)


# -- "stop" by mention -----------------------------------------------------------------------


def stop_values(stop: StopWords) -> dict[str, Any]:
    return {"stop_enabled": stop.enabled, "stop_words": "\n".join(stop.words), "stop_undo": stop.undo_existing,
            "stop_reply": stop.reply, "stop_reply_text": stop.reply_text}


def stop_of(form: Form) -> StopWords:
    """The "stop" by mention settings, as PATCH {stop_words} replaces them: one word a line."""
    words = form.get("stop_words")
    values: dict[str, Any] = {"stop_enabled": form.has("stop_enabled"), "stop_words": words,
                              "stop_undo": form.has("stop_undo"), "stop_reply": form.has("stop_reply"),
                              # left out, it takes its default, as in the API's PATCH
                              "stop_reply_text": form.get("stop_reply_text", DEFAULT_STOP_REPLY)}
    data = {"enabled": values["stop_enabled"], "words": _lines(words), "undo_existing": values["stop_undo"],
            "reply": values["stop_reply"], "reply_text": values["stop_reply_text"]}
    try:
        return checked(StopWords, data, values)
    except FormRejected as rejected:  # the model names its fields; the form's are prefixed
        names = {"enabled": "stop_enabled", "words": "stop_words", "undo_existing": "stop_undo",
                 "reply": "stop_reply", "reply_text": "stop_reply_text"}
        raise FormRejected({names.get(k, k): v for k, v in rejected.errors.items()}, values) from rejected
