"""Stable REFI-QDA GUIDs: derived from qcode's ids, or kept from the tool that made them.

A qcode object gets the same GUID on every export without storing anything: the GUID is
``uuid5(project namespace, "<kind>:<key>")``, where the namespace is ``uuid5`` of a fixed
qcode namespace and the project's name, and the key is the object's qcode id (a code id, a
coder name, a transcript id, ...). Renaming the project therefore changes every GUID; an
object's own id is what it is known by.

GUIDs that came from another tool (``qcode import qdc`` / ``import qdpx``) are kept in a
sidecar file beside the codebook, ``<codebook>.guids.yaml``, and an export prefers them, so
NVivo or ATLAS.ti recognise their own codes, documents and users when the file goes back.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path, PurePath
from typing import Any, TypeGuard, TypeVar

PathT = TypeVar("PathT", bound=PurePath)

# Fixed for ever: changing it would change every GUID qcode has ever written.
QCODE_NAMESPACE = uuid.UUID("6a1f9c3e-2b47-5d8e-9f10-7c3b2a1d0e45")

GUID_RE = re.compile(
    r"\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?")
_HEX32_RE = re.compile(r"[0-9a-f]{32}")  # both with fullmatch

# The kinds of objects that a sidecar keeps GUIDs for, with the qcode key they are keyed by.
SIDECAR_KINDS = ("codes", "transcripts", "cases", "coders")
SIDECAR_SUFFIX = ".guids.yaml"


def project_namespace(project_name: str) -> uuid.UUID:
    return uuid.uuid5(QCODE_NAMESPACE, f"project:{project_name}")


def derive(namespace: uuid.UUID, kind: str, key: str) -> str:
    """The GUID of a qcode object: upper case, as ATLAS.ti and MAXQDA write them.

    ``uuid.uuid5`` by hand (SHA-1 of the namespace and the name, version and variant bits
    set): the same GUID in a quarter of the time, which counts at 300,000 codings."""
    digest = bytearray(hashlib.sha1(namespace.bytes + f"{kind}:{key}".encode())
                       .digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex().upper()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def normalize(guid: str | None) -> str | None:
    """A GUID for comparing: lower case, without braces; None when it is not a GUID."""
    if guid is None:
        return None
    match = GUID_RE.fullmatch(guid.strip())
    return match.group(1).lower() if match else None


def is_guid(text: str | None) -> TypeGuard[str]:
    return normalize(text) is not None


def coding_id_from_guid(guid: str) -> str:
    """The coding id an imported coding gets: its GUID's 32 hex digits (see ``guid_of_coding_id``)."""
    key = normalize(guid)
    assert key is not None
    return key.replace("-", "")


def guid_of_coding_id(coding_id: str) -> str | None:
    """The GUID a coding id stands for when it was made from one on import, else None.

    qcode's own ids are 16 hex digits; an imported coding keeps its tool's GUID as its id
    (32 hex digits), so exporting it again gives the tool back the GUID it knows.
    """
    if _HEX32_RE.fullmatch(coding_id):
        h = coding_id
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return None


def sidecar_path(codebook_path: PathT) -> PathT:
    """``codebooks/vet-mobility.yaml`` → ``codebooks/vet-mobility.guids.yaml``."""
    name = codebook_path.name
    stem = name[: -len(codebook_path.suffix)] if codebook_path.suffix else name
    return codebook_path.with_name(stem + SIDECAR_SUFFIX)


class GuidStore:
    """GUIDs kept from other tools, by kind and qcode key; everything else is derived."""

    def __init__(self, namespace: uuid.UUID, kept: dict[str, dict[str, str]] | None = None):
        self.namespace = namespace
        self.kept: dict[str, dict[str, str]] = {k: dict((kept or {}).get(k, {}))
                                                for k in SIDECAR_KINDS}
        self._used: dict[str, str] = {}  # normalised GUID -> "kind:key" that owns it

    def get(self, kind: str, key: str) -> str:
        """The GUID for ``kind:key``: kept if there is one (and it is not taken), else derived.

        Every GUID handed out is unique in this export; a kept GUID that clashes with one
        already given out is replaced by the derived one.
        """
        owner = f"{kind}:{key}"
        store = self.kept.get(_SIDECAR_OF.get(kind, ""), {})
        kept = store.get(key)
        for candidate in (kept, derive(self.namespace, kind, key)):
            norm = normalize(candidate)
            if norm is None:
                continue
            if self._used.get(norm, owner) == owner:
                self._used[norm] = owner
                return candidate  # type: ignore[return-value]
        # Astronomically unlikely: a derived GUID clashes with a kept one.
        fallback = derive(self.namespace, kind, f"{key}#{len(self._used)}")
        self._used[normalize(fallback)] = owner  # type: ignore[index]
        return fallback

    def claim(self, guid: str, owner: str) -> bool:
        """Reserve a GUID (e.g. a coding's own); False when another object has it."""
        norm = normalize(guid)
        if norm is None or self._used.get(norm, owner) != owner:
            return False
        self._used[norm] = owner
        return True


# Which sidecar section keeps the GUIDs of a kind.
_SIDECAR_OF = {"code": "codes", "source": "transcripts", "case": "cases", "user": "coders"}


def load_sidecar(path: Path) -> dict[str, dict[str, str]]:
    """The kept GUIDs of a sidecar file; an absent or unreadable file keeps none.

    An invalid entry is ignored (its object then gets a derived GUID); nothing here can
    stop an export.
    """
    from qcode.format.yamlio import load_yaml_file
    from qcode.problems import Problems

    if not path.is_file():
        return {}
    doc = load_yaml_file(path, path.name, Problems())
    if doc is None or not isinstance(doc.data, dict):
        return {}
    kept: dict[str, dict[str, str]] = {}
    for kind in SIDECAR_KINDS:
        section = doc.data.get(kind)
        if not isinstance(section, dict):
            continue
        kept[kind] = {str(k): v for k, v in section.items()
                      if isinstance(v, str) and is_guid(v)}
    return kept


def sidecar_text(kept: dict[str, dict[str, Any]]) -> str:
    from qcode.format.yamlio import dump_yaml

    data = {kind: dict(kept[kind]) for kind in SIDECAR_KINDS if kept.get(kind)}
    header = ("# REFI-QDA GUIDs kept from another tool (written by `qcode import`).\n"
              "# `qcode export qdc|qdpx` reuses them so that tool recognises its own objects;\n"
              "# objects not listed get a GUID derived from their id. See docs/refi-qda.md.\n")
    return header + dump_yaml(data)
