"""The two bases of every WebSocket frame (``realtime.protocol``, ``realtime.cobrowse_frames``):
frames from clients refuse unknown keys and numbers beyond 64 bits; frames to clients render
themselves as JSON."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator

from tresen.errors import MAX_ID


class InFrame(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    @model_validator(mode="after")
    def _numbers_fit_64_bits(self) -> InFrame:
        """Ids and positions are SQL BIGINTs: a bigger number is an invalid frame, never a
        database fault (top-level fields, and the keys and items of maps and lists). Run on
        every frame: strings and None, most fields, cost one type check each."""
        for value in self.__dict__.values():
            kind = type(value)
            if kind is int:
                _fits(value)
            elif kind is dict:
                for key, item in value.items():
                    if type(key) is int:
                        _fits(key)
                    if type(item) is int:
                        _fits(item)
            elif kind is list or kind is tuple:
                for item in value:
                    if type(item) is int:
                        _fits(item)
        return self


def _fits(n: int) -> None:
    if not -MAX_ID <= n <= MAX_ID:
        raise ValueError("numbers are limited to 64 bits")


class OutFrame(BaseModel):
    def frame(self) -> str:
        return self.model_dump_json()
