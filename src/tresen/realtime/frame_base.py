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
        database fault (top-level fields, and the keys and items of maps and lists)."""
        for value in self.__dict__.values():
            items = value.items() if isinstance(value, dict) else [value]
            for item in items:
                for n in item if isinstance(item, tuple | list) else (item,):
                    if type(n) is int and not -MAX_ID <= n <= MAX_ID:
                        raise ValueError("numbers are limited to 64 bits")
        return self


class OutFrame(BaseModel):
    def frame(self) -> str:
        return self.model_dump_json()
