"""The one error of the rule language."""

from __future__ import annotations


class QuerySyntaxError(ValueError):
    """A query that is refused: `message` says why, `position` is the 0-based index of the fault."""

    def __init__(self, message: str, position: int):
        super().__init__(f"{message} (at position {position})")
        self.message = message
        self.position = position

    def to_dict(self) -> dict[str, object]:
        """The error as the API returns it: `{"message": ..., "position": ...}`."""
        return {"message": self.message, "position": self.position}
