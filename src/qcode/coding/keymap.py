"""The interactive coder's key bindings, as data: one place for the app, its help screen,
the README, and ``qcode check`` (which refuses a code shortcut that would shadow a key).

Users remap bindings by id in qcode.yaml::

    keys:
      next-passage: n,down
      undo: ctrl+z

Keys use Textual's names (``j``, ``J``, ``down``, ``ctrl+z``, ``slash``); several keys are
separated by commas.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyBinding:
    id: str
    keys: str
    action: str
    description: str


BINDINGS: tuple[KeyBinding, ...] = (
    KeyBinding("next-passage", "j,down", "next_passage", "Next passage"),
    KeyBinding("previous-passage", "k,up", "previous_passage", "Previous passage"),
    KeyBinding("next-uncoded", "J", "next_uncoded", "Next uncoded passage"),
    KeyBinding("previous-uncoded", "K", "previous_uncoded", "Previous uncoded passage"),
    KeyBinding("next-transcript", "right_square_bracket", "next_transcript", "Next transcript"),
    KeyBinding("previous-transcript", "left_square_bracket", "previous_transcript",
               "Previous transcript"),
    KeyBinding("pick-code", "slash", "pick_code", "Find a code by name (fuzzy) and apply it"),
    KeyBinding("undo", "u", "undo", "Undo the last change of this session"),
    KeyBinding("memo", "m", "memo", "Memo on this passage's codings"),
    KeyBinding("definition", "d", "definition", "Definition of the code selected in the tree"),
    KeyBinding("select-words", "v", "select_words", "Code part of the passage (choose words)"),
    KeyBinding("focus-tree", "tab", "focus_tree", "Move between passages and codebook"),
    KeyBinding("help", "question_mark", "help", "All keys"),
    KeyBinding("quit", "q", "quit", "Quit (everything is already saved)"),
)

BINDING_IDS = tuple(b.id for b in BINDINGS)

_CHARACTERS = {"slash": "/", "question_mark": "?", "left_square_bracket": "[",
               "right_square_bracket": "]", "space": " ", "full_stop": ".", "minus": "-",
               "comma": ","}


def key_character(key: str) -> str | None:
    """The printable character a Textual key name types, if it is one character."""
    key = key.strip()
    if key in _CHARACTERS:
        return _CHARACTERS[key]
    return key if len(key) == 1 else None


def effective_keys(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Binding id → keys, after the user's remapping."""
    keys = {b.id: b.keys for b in BINDINGS}
    keys.update(overrides or {})
    return keys


def bound_characters(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Printable character → binding id, for every key the app itself uses."""
    out: dict[str, str] = {}
    for binding_id, keys in effective_keys(overrides).items():
        for key in keys.split(","):
            character = key_character(key)
            if character is not None:
                out[character] = binding_id
    return out
