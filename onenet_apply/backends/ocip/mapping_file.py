"""A platform's own names: `?mapping=FILE` on an OCI-P URL.

A YAML (or JSON) file with any of the sections `service_packs`, `services`,
`devices`, `editions` (the site file's word -> the BroadWorks name), each
overriding the default names for the words it lists, and an optional
`catalogue` (the shape of onenet_apply/data/catalogue.json) for a platform that
sells other packages. Every word of the catalogue must end up with a name, and
no two words with the same one (reading back must know which was meant); a
word the catalogue does not have is a typo. Each mistake is one line naming the
file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from onenet_apply.backends.base import BackendError
from onenet_apply.backends.ocip.services import (
    DEFAULT_DEVICES,
    DEFAULT_EDITIONS,
    DEFAULT_PACKS,
    DEFAULT_SERVICES,
    ServiceMapping,
)
from onenet_apply.model.catalogue import Catalogue, default_catalogue
from onenet_apply.model.spec import NO_DESK_PHONE

SECTIONS = ("service_packs", "services", "devices", "editions")
MAX_BYTES = 1 << 20


class MappingFileError(BackendError):
    """A mapping file that cannot be used, saying where and why."""


def load(path: str) -> ServiceMapping:
    raw = _read(path)
    unknown = sorted(set(raw) - {*SECTIONS, "catalogue"})
    if unknown:
        raise MappingFileError(
            f"{path}: unknown section {unknown[0]!r}; known: {', '.join(SECTIONS)}, catalogue"
        )
    catalogue = _catalogue(path, raw.get("catalogue"))
    words = {
        "service_packs": (DEFAULT_PACKS, sorted(catalogue.packages | catalogue.options)),
        "services": (DEFAULT_SERVICES, sorted(catalogue.services)),
        "devices": (DEFAULT_DEVICES, sorted(catalogue.desk_phones - {NO_DESK_PHONE})),
        "editions": (DEFAULT_EDITIONS, sorted(catalogue.edition_levels)),
    }
    names = {
        section: _section(path, section, raw.get(section), defaults, needed)
        for section, (defaults, needed) in words.items()
    }
    return ServiceMapping(
        catalogue,
        names["service_packs"],
        names["services"],
        names["devices"],
        names["editions"],
    )


def _read(path: str) -> dict[str, Any]:
    import yaml

    try:
        with open(path, "rb") as file:
            text = file.read(MAX_BYTES + 1)
    except OSError as e:
        raise MappingFileError(f"{path}: cannot read the mapping file: {e.strerror}") from None
    if len(text) > MAX_BYTES:
        raise MappingFileError(f"{path}: a mapping file over 1 MiB is not one")
    try:
        raw = yaml.load(text, Loader=yaml.CSafeLoader) if text.strip() else {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise MappingFileError(f"{path}{where}: not YAML: {getattr(e, 'problem', e)}") from None
    if not isinstance(raw, dict):
        raise MappingFileError(f"{path}: write a mapping of sections ({', '.join(SECTIONS)})")
    return raw


def _catalogue(path: str, raw: Any) -> Catalogue:
    if raw is None:
        return default_catalogue()
    try:
        return Catalogue.from_dict(raw)
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        raise MappingFileError(
            f"{path}: catalogue: not in the shape of the built-in one ({e!r})"
        ) from None


def _section(
    path: str, section: str, raw: Any, defaults: Mapping[str, str], needed: Iterable[str]
) -> dict[str, str]:
    given = raw if raw is not None else {}
    if not isinstance(given, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in given.items()
    ):
        raise MappingFileError(f"{path}: {section}: write word: BroadWorks name pairs")
    wanted = list(needed)
    typos = sorted(set(given) - set(wanted))
    if typos:
        raise MappingFileError(
            f"{path}: {section}: {typos[0]!r} is not in the catalogue ({', '.join(wanted)})"
        )
    names = {word: given.get(word, defaults.get(word, "")) for word in wanted}
    missing = [word for word, name in names.items() if not name]
    if missing:
        raise MappingFileError(f"{path}: {section}: no BroadWorks name for {missing[0]!r}")
    seen: dict[str, str] = {}
    for word, name in names.items():
        if name in seen:
            raise MappingFileError(
                f"{path}: {section}: {seen[name]!r} and {word!r} both map to {name!r}"
            )
        seen[name] = word
    return names
