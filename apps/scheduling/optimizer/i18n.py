"""The planner's messages, in the reader's language once a translator is installed.

The optimizer imports nothing from Django (it runs in the bench and tests on its own);
apps.scheduling installs Django's gettext at start-up, and makemessages finds the
strings through the `_` calls as usual.
"""

from __future__ import annotations

from collections.abc import Callable

_translate: Callable[[str], str] = str


def install(translate: Callable[[str], str]) -> None:
    global _translate
    _translate = translate


def _(text: str) -> str:
    return _translate(text)


def gettext_noop(text: str) -> str:
    """Marks a message for extraction where it is defined; `_` translates it where used."""
    return text
