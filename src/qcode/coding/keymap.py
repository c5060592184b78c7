"""The key bindings of every full-screen screen, as data: one place for the app, its help
screen, the README, and ``qcode check`` (which refuses a remapping that names no binding,
binds one key twice on a screen, or shadows a code's shortcut in the coder).

Users remap bindings by id in qcode.yaml::

    keys:
      next-passage: n,down
      undo: ctrl+z

Keys use Textual's names (``j``, ``J``, ``down``, ``ctrl+z``, ``slash``); several keys are
separated by commas. A binding belongs to a screen: ``coder`` (``qcode code``),
``adjudicate`` (``qcode adjudicate``), ``suggestions`` (``qcode code --suggestions``),
``key-review`` (``qcode pseudonymise review``), ``picker`` (the code picker), ``words`` (choosing words) or ``dialog`` (every pop-up:
closing it). An id may serve several screens when it means the same there (``quit``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.codebook import Codebook
    from qcode.format.yamlio import YamlDocument
    from qcode.problems import Problems

SCREENS = ("coder", "adjudicate", "suggestions", "key-review", "picker", "words", "dialog")


@dataclass(frozen=True)
class KeyBinding:
    id: str
    keys: str
    action: str
    description: str
    screen: str = "coder"
    show: bool = True  # listed in the help screen


BINDINGS: tuple[KeyBinding, ...] = (
    # the coder
    KeyBinding("next-passage", "j,down", "next_passage", "Next passage"),
    KeyBinding("previous-passage", "k,up", "previous_passage", "Previous passage"),
    KeyBinding("next-uncoded", "J", "next_uncoded", "Next uncoded passage"),
    KeyBinding("previous-uncoded", "K", "previous_uncoded", "Previous uncoded passage"),
    KeyBinding("next-transcript", "right_square_bracket", "next_transcript", "Next transcript"),
    KeyBinding("previous-transcript", "left_square_bracket", "previous_transcript",
               "Previous transcript"),
    KeyBinding("cursor-next-word", "right", "cursor_word(1)", "Cursor to the next word"),
    KeyBinding("cursor-previous-word", "left", "cursor_word(-1)", "Cursor to the previous word"),
    KeyBinding("select-next-word", "shift+right", "cursor_word(1, True)",
               "Select: extend to the next word"),
    KeyBinding("select-previous-word", "shift+left", "cursor_word(-1, True)",
               "Select: extend to the previous word"),
    KeyBinding("next-sentence", "right_parenthesis", "cursor_sentence(1)",
               "Cursor to the next sentence"),
    KeyBinding("previous-sentence", "left_parenthesis", "cursor_sentence(-1)",
               "Cursor to this (or the previous) sentence's start"),
    KeyBinding("text-start", "home", "cursor_home", "Cursor to the passage's first word"),
    KeyBinding("text-end", "end", "cursor_end", "Cursor to the passage's last word"),
    KeyBinding("select-words", "v", "select_words",
               "Start (or end) a selection at the cursor; then move to extend it"),
    KeyBinding("clear-selection", "escape", "clear_selection", "Drop the selection"),
    KeyBinding("codings", "enter", "codings",
               "The codings on the passage: remove, widen, narrow, memo"),
    KeyBinding("pick-code", "slash", "pick_code", "Find a code by name (fuzzy) and apply it"),
    KeyBinding("new-code", "plus", "new_code",
               "New code: add one to the codebook and use it at once"),
    KeyBinding("search", "ctrl+f", "search",
               "Search the transcripts; Enter on a hit goes there and selects its words"),
    KeyBinding("next-hit", "ctrl+n", "step_hit(1)", "Next search hit"),
    KeyBinding("previous-hit", "ctrl+p", "step_hit(-1)", "Previous search hit"),
    KeyBinding("code-hits", "ctrl+a", "code_hits",
               "Code every search hit with a code (passages, sentences or words)"),
    KeyBinding("undo", "u", "undo", "Undo the last change of this session"),
    KeyBinding("memo", "m", "memo", "Memo on a coding of the passage"),
    KeyBinding("definition", "d", "definition",
               "Show or hide the definition panel (the code in the tree or under the cursor)"),
    KeyBinding("code-names", "ctrl+l", "code_names", "Codes in passages by id or by label"),
    KeyBinding("transcript-memo", "ctrl+t", "transcript_memo",
               "Show or hide the transcript's memos (memos/)"),
    KeyBinding("focus-tree", "tab", "focus_tree", "Move between passages and codebook"),
    KeyBinding("help", "question_mark", "help", "All keys"),
    KeyBinding("quit", "q", "quit", "Quit (everything is already saved)"),
    # adjudication
    KeyBinding("take-first", "a", "decide('a')", "Take A's coding", "adjudicate"),
    KeyBinding("take-second", "b", "decide('b')", "Take B's coding", "adjudicate"),
    KeyBinding("take-both", "o", "decide('both')", "Take both", "adjudicate"),
    KeyBinding("take-neither", "n", "decide('neither')", "Neither", "adjudicate"),
    KeyBinding("edit", "e", "edit", "Edit: choose the words", "adjudicate"),
    KeyBinding("reason", "w", "reason", "Why: the reason for the next decision", "adjudicate"),
    KeyBinding("next-item", "j,down,s", "move(1)", "Skip to the next", "adjudicate"),
    KeyBinding("previous-item", "k,up", "move(-1)", "Previous", "adjudicate"),
    KeyBinding("quit", "q", "quit", "Quit (decisions are saved)", "adjudicate"),
    # reviewing suggestions
    KeyBinding("accept", "a", "accept", "Accept", "suggestions"),
    KeyBinding("reject", "r", "reject", "Reject", "suggestions"),
    KeyBinding("accept-all", "A", "accept_all", "Accept all of this code in this transcript",
               "suggestions"),
    KeyBinding("reject-all", "R", "reject_all", "Reject all of this code in this transcript",
               "suggestions"),
    KeyBinding("next-suggestion", "j,down,s", "move(1)", "Skip to the next", "suggestions"),
    KeyBinding("previous-suggestion", "k,up", "move(-1)", "Previous", "suggestions"),
    KeyBinding("quit", "q", "quit", "Quit (decisions are saved)", "suggestions"),
    # reviewing the pseudonymisation key's candidates
    KeyBinding("key-person", "1", "accept('person')", "A person", "key-review"),
    KeyBinding("key-school", "2", "accept('school')", "A school", "key-review"),
    KeyBinding("key-place", "3", "accept('place')", "A place", "key-review"),
    KeyBinding("key-organisation", "4", "accept('organisation')", "An organisation",
               "key-review"),
    KeyBinding("key-other", "5", "accept('other')", "Something else identifying",
               "key-review"),
    KeyBinding("key-none", "n", "not_identifying", "Not identifying (remembered)", "key-review"),
    KeyBinding("next-candidate", "j,down,s", "move(1)", "Skip to the next", "key-review"),
    KeyBinding("previous-candidate", "k,up", "move(-1)", "Previous", "key-review"),
    KeyBinding("quit", "q", "quit", "Quit (decisions are saved)", "key-review"),
    # pop-ups
    KeyBinding("close-dialog", "escape", "close", "Close the pop-up (cancel)", "dialog"),
    KeyBinding("word-previous", "left,h", "move(-1)", "Previous word", "words"),
    KeyBinding("word-next", "right,l", "move(1)", "Next word", "words"),
    KeyBinding("word-up", "up", "move(-8)", "Eight words back", "words", show=False),
    KeyBinding("word-down", "down", "move(8)", "Eight words on", "words", show=False),
    KeyBinding("word-mark", "enter,space,v", "mark", "Mark the first, then the last word",
               "words"),
    KeyBinding("picker-down", "down", "down", "Next code", "picker", show=False),
    KeyBinding("picker-up", "up", "up", "Previous code", "picker", show=False),
)

BINDING_IDS = tuple(dict.fromkeys(b.id for b in BINDINGS))


def bindings_for(screen: str) -> tuple[KeyBinding, ...]:
    """The bindings of one screen, in the order they are documented; a pop-up's own
    screen includes closing it (``dialog``)."""
    screens = {screen, "dialog"} if screen in ("picker", "words") else {screen}
    return tuple(b for b in BINDINGS if b.screen in screens)


def binding(binding_id: str, screen: str) -> KeyBinding:
    return next(b for b in BINDINGS if b.id == binding_id and b.screen == screen)


_CHARACTERS = {"slash": "/", "question_mark": "?", "left_square_bracket": "[",
               "right_square_bracket": "]", "space": " ", "full_stop": ".", "minus": "-",
               "comma": ",", "left_parenthesis": "(", "right_parenthesis": ")",
               "plus": "+"}


def key_character(key: str) -> str | None:
    """The printable character a Textual key name types, if it is one character."""
    key = key.strip()
    if key in _CHARACTERS:
        return _CHARACTERS[key]
    return key if len(key) == 1 else None


def effective_keys(overrides: dict[str, str] | None = None,
                   screen: str = "coder") -> dict[str, str]:
    """Binding id → keys on one screen, after the user's remapping."""
    keys = {b.id: b.keys for b in bindings_for(screen)}
    keys.update({k: v for k, v in (overrides or {}).items() if k in keys})
    return keys


def bound_characters(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Printable character → binding id, for every key the coder itself uses."""
    out: dict[str, str] = {}
    for binding_id, keys in effective_keys(overrides).items():
        for key in split_keys(keys):
            character = key_character(key)
            if character is not None:
                out[character] = binding_id
    return out


def split_keys(keys: str) -> Iterable[str]:
    return (k.strip() for k in keys.split(",") if k.strip())


def check_keys(overrides: dict[str, str], doc: YamlDocument | None, codebook: Codebook,
               problems: Problems) -> None:
    """Remapped keys (qcode.yaml `keys:`) must name real bindings and shadow no code.
    ``doc`` is qcode.yaml as read (for line numbers)."""
    from qcode.format.config import CONFIG_NAME
    from qcode.format.names import did_you_mean

    def line(binding_id: str) -> int | None:
        return doc.line_for(("keys", binding_id)) if doc is not None else None

    for binding_id in overrides:
        if binding_id not in BINDING_IDS:
            guess = did_you_mean(binding_id, BINDING_IDS)
            problems.error("keys-unknown-binding", CONFIG_NAME, line(binding_id),
                           f"keys: {binding_id!r} is not a binding of the full-screen app",
                           f"did you mean {guess[0]!r}?" if guess
                           else f"bindings: {', '.join(BINDING_IDS)}")
    code_keys = {c.key: c.id for c in codebook if c.key}
    reported: set[tuple[str, str, str]] = set()
    for screen in SCREENS:
        used: dict[str, str] = {}
        for binding_id, keys in effective_keys(overrides, screen).items():
            for key in split_keys(keys):
                other = used.get(key)
                if other is not None and other != binding_id \
                        and (key, other, binding_id) not in reported:
                    reported.add((key, other, binding_id))
                    problems.error("keys-conflict", CONFIG_NAME, line(binding_id),
                                   f"key {key!r} is bound to both {other!r} and "
                                   f"{binding_id!r}", "give each binding its own keys")
                used[key] = binding_id
                character = key_character(key)
                if screen == "coder" and binding_id in overrides and character in code_keys:
                    problems.error("keys-conflict", CONFIG_NAME, line(binding_id),
                                   f"key {key!r} of {binding_id!r} is the shortcut of code "
                                   f"{code_keys[character]!r}", "choose another key or "
                                   "change the code's `key:` in the codebook")
