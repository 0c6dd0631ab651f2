"""Command-line arguments of a job (everything after the ``.wasm`` path)."""

from __future__ import annotations

from typing import Iterable, Optional

from .errors import InvalidArguments


class Args:
    """The job's arguments, parsed as ``--key value``, ``--key=value`` and
    bare ``--flag``, with the Rust SDK's rules: a ``--name`` followed by a
    token that does not start with ``--`` takes it as its value; other
    tokens are positional; the last occurrence of a name wins."""

    def __init__(self, raw: Iterable[str]) -> None:
        #: The arguments exactly as given.
        self.raw = list(raw)
        #: Tokens that are neither a ``--key`` nor its value.
        self.positional = []
        self._named = {}
        tokens = self.raw
        i = 0
        while i < len(tokens):
            token = tokens[i]
            i += 1
            name = token[2:] if token.startswith("--") else ""
            if not name:
                self.positional.append(token)
                continue
            if "=" in name:
                key, value = name.split("=", 1)
                self._named[key] = value
                continue
            if i < len(tokens) and not tokens[i].startswith("--"):
                self._named[name] = tokens[i]
                i += 1
            else:
                self._named[name] = None

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """The value of ``--name``, or ``default`` when absent or bare."""
        value = self._named.get(name)
        return default if value is None else value

    def flag(self, name: str) -> bool:
        """Whether ``--name`` was given bare, or as ``--name true``."""
        if name not in self._named:
            return False
        return self._named[name] in (None, "true")

    def __contains__(self, name: object) -> bool:
        return name in self._named

    def required(self, name: str) -> str:
        """The value of ``--name``; raises :class:`InvalidArguments` when missing."""
        value = self._named.get(name)
        if value is None:
            raise InvalidArguments(f"missing required argument --{name}")
        return value

    def get_int(self, name: str, default: Optional[int] = None) -> Optional[int]:
        """The value of ``--name`` as an int; raises :class:`InvalidArguments`
        when it does not parse."""
        value = self._named.get(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise InvalidArguments(f"argument --{name}: cannot read '{value}' as an integer") from None

    def required_int(self, name: str) -> int:
        """Like :meth:`get_int`, but a missing argument is an error too."""
        self.required(name)
        return self.get_int(name)
