"""Validation: the schema, then the rules of the platform, then a typed SiteSpec.

The schema catches shape and type errors; this module adds what a schema cannot
say (numbers valid in the site's country and unique, extension defaults and
collisions, references between users and groups, one pickup and one park group
per user, licence counts, catalogue values): the rules of docs/domain.md that a
site file alone can show.

Every rule runs on the raw data and reads only the fields it needs; a field that
broke the schema (or is missing) silences the rules that read it and nothing
else. So one typo gives one message, not a cascade, and an unrelated problem in
the same user is still found. The SiteSpec is built only from a site with no
error at all (`spec_builder`), and only when asked for: `onenet validate` needs
just the site's id and counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onenet_apply.gcpause import gc_paused
from onenet_apply.model.catalogue import Catalogue, default_catalogue
from onenet_apply.model.numbering import NumberPool, default_extension, parse_pool_entry
from onenet_apply.model.phone import InvalidNumber, known_region, parse_number
from onenet_apply.model.spec import DEACTIVATED
from onenet_apply.model.vocabulary import GROUP_SECTIONS, GROUPS
from onenet_apply.sitefile.catalogue_fields import catalogue_hint, value_at
from onenet_apply.sitefile.cross_checks import CrossChecks
from onenet_apply.sitefile.group_limits import check_group_limits
from onenet_apply.sitefile.hints import did_you_mean
from onenet_apply.sitefile.load_state import FileReads
from onenet_apply.sitefile.loader import LoadedFile, load_site_file
from onenet_apply.sitefile.problems import (
    NeedsPositions,
    Path,
    Problem,
    ProblemList,
    Severity,
    dotted,
)
from onenet_apply.sitefile.schema import Violation, site_checker
from onenet_apply.sitefile.spec_builder import Normalised
from onenet_apply.sitefile.stated_site import stated_site_id
from onenet_apply.sitefile.values import text_problem
from onenet_apply.sitefile.verdict import Validation, ValidSite

_FORBIDDEN_IN_USERNAME = set("+-&@")
_NUMBERED_SECTIONS = tuple(g.section for g in GROUPS.values() if g.numbered)


def validate_file(path: str, catalogue: Catalogue | None = None) -> Validation:
    """Load and validate one site file; never raises for bad input.

    A site file is read without positions first: a valid one (most reads: every plan
    and apply) never needs them. Its first problem ends that read, and the file is
    read and checked again with them (see NeedsPositions)."""
    catalogue = catalogue or default_catalogue()
    reads: FileReads = {}  # both reads see the same bytes, a pipe's included
    with gc_paused():
        try:
            return validate_loaded(load_site_file(path, positions=False, reads=reads), catalogue)
        except NeedsPositions:
            pass  # read again below, once the first read (its traceback's) is let go
        return validate_loaded(load_site_file(path, reads=reads), catalogue)


def validate_loaded(loaded: LoadedFile, catalogue: Catalogue) -> Validation:
    valid = _Validator(loaded, catalogue).run()
    problems = sorted(loaded.problems.items, key=Problem.sort_key)
    named = stated_site_id(loaded.data, loaded.path)
    return Validation(loaded.path, problems, loaded.problems.dropped, valid, named)


@dataclass(slots=True)
class _Claim:
    """Who holds a number or extension, and whether by default (from the number)."""

    owner: str  # dotted path of the owner, e.g. users.anna
    defaulted: bool = False


class _Validator:
    def __init__(self, loaded: LoadedFile, catalogue: Catalogue) -> None:
        self.loaded = loaded
        self.source = loaded.source
        self.problems: ProblemList = loaded.problems
        self.catalogue = catalogue
        self.broken: set[Path] = set()
        self.region: str | None = None
        self.extension_length = 4
        self.pool = NumberPool([])
        self.numbers: dict[str, _Claim] = {}
        self.extensions: dict[str, _Claim] = {}
        self.normalised = Normalised()

    # -- reporting ---------------------------------------------------------------
    def error(
        self,
        path: Path,
        message: str,
        at: str = "value",
        hint: str | None = None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        # a missing key is reported at the key of the mapping that lacks it
        position = self.source.locate(path, "value" if at == "value" else "key")
        self.problems.add(Problem(position, path, message, hint, severity))

    def intact(self, path: Path) -> bool:
        """No schema or loader problem at `path` or above it."""
        broken = self.broken
        if not broken:
            return True
        return not any(path[:i] in broken for i in range(1, len(path) + 1))

    def whole(self, path: Path) -> bool:
        """Nothing at, above or below `path` is broken (for rules over a whole list)."""
        n = len(path)
        return self.intact(path) and not any(p[:n] == path for p in self.broken)

    def usable(self, mapping: dict[str, Any], base: Path, key: str) -> bool:
        """`mapping[key]` is present and passed the schema."""
        if key not in mapping:
            return False
        return not self.broken or self.intact((*base, key))

    # -- the run -----------------------------------------------------------------
    def run(self) -> ValidSite | None:
        data = self.loaded.data
        if data is None:
            return None
        self._schema(data)
        self._site(data)
        users = self.section(data, "users")
        for uid, entry in users.items():
            self._user(("users", uid), uid, entry)
        for section in GROUP_SECTIONS:
            for gid, g in self.section(data, section).items():
                self._text(g, (section, gid), "name")
        for section in _NUMBERED_SECTIONS:
            for gid, g in self.section(data, section).items():
                self._numbered_group((section, gid), g)
        for gid, g in self.section(data, "hunt_groups").items():
            self._hunt_group(("hunt_groups", gid), g)
        CrossChecks(self).run(data, users)
        check_group_limits(self, data)  # the backend's, where its catalogue has any
        if self.problems.has_errors:
            return None
        return ValidSite(data, self.normalised)

    def section(self, data: dict[str, Any], section: str) -> dict[str, Any]:
        """The entries of a section that are mappings (the schema reports the rest)."""
        raw = data.get(section)
        if not isinstance(raw, dict) or not self.intact((section,)):
            return {}
        return {k: v for k, v in raw.items() if isinstance(v, dict) and self.intact((section, k))}

    def _schema(self, data: dict[str, Any]) -> None:
        poisoned = self.loaded.poisoned
        self.broken.update(poisoned)
        for violation in site_checker()(data) or ():
            path = violation.path
            if any(path[: len(p)] == p for p in poisoned):
                continue
            self.broken.add((*path, violation.missing) if violation.missing else path)
            hint = self._schema_hint(violation, data)
            self.error(path, violation.message, violation.anchor, hint)

    def _schema_hint(self, violation: Violation, data: dict[str, Any]) -> str | None:
        path = violation.path
        raw = self.source.raw_scalar(path) if violation.expected_string else None
        if raw is not None:
            return f'write "{raw}" in quotes to keep it as written'
        if violation.hint is None and not violation.missing:  # a misspelt catalogue name
            value = path[-1] if violation.anchor == "key" else value_at(data, path)
            return catalogue_hint(path, value, self.catalogue)
        return violation.hint

    # -- site --------------------------------------------------------------------
    def _site(self, data: dict[str, Any]) -> None:
        site = data.get("site")
        if not isinstance(site, dict):
            return
        base: Path = ("site",)
        self._text(site, base, "name")
        if self.usable(site, base, "country"):
            if known_region(site["country"]):
                self.region = site["country"]
            else:
                self.error(
                    ("site", "country"),
                    f"unknown region {site['country']!r}",
                    hint="use an ISO 3166 code such as DE, GB or NL",
                )
        if self.usable(site, base, "extension_length"):
            self.extension_length = site["extension_length"]
        if self.region and self.usable(site, base, "number_pool"):
            ranges = []
            for i, entry in enumerate(site["number_pool"]):
                if not self.intact(("site", "number_pool", i)):
                    continue
                try:
                    ranges.append(parse_pool_entry(entry, self.region))
                except InvalidNumber as e:
                    self.error(("site", "number_pool", i), str(e))
            self.pool = NumberPool(ranges)

    def _text(self, entry: dict[str, Any], base: Path, key: str) -> None:
        """Names and usernames: no invisible characters, no white space at either end."""
        if self.usable(entry, base, key):
            problem = text_problem(entry[key])
            if problem:
                self.error((*base, key), problem)

    # -- numbers and extensions ------------------------------------------------
    def _number(
        self,
        path: Path,
        owner: str,
        *,
        in_pool: bool = True,
        claim: bool = True,
        mobile: bool = False,
    ) -> str | None:
        """Parse, check and claim the number at `path`; returns its national digits."""
        if self.region is None:
            return None
        try:
            parsed = parse_number(self._value(path), self.region)
        except InvalidNumber as e:
            self.error(path, str(e))
            return None
        if mobile and not parsed.is_mobile:
            self.error(path, f"{parsed.e164} is not a mobile number")
            return None
        if in_pool and self.pool and parsed.e164 not in self.pool:
            self.error(
                path,
                f"{parsed.e164} is not in site.number_pool",
                hint="add it to the pool or correct the number",
            )
            return None
        if claim:
            first = self.numbers.get(parsed.e164)
            if first is not None:
                self.error(
                    path,
                    f"number {parsed.e164} is already used by {first.owner}; "
                    "a number belongs to at most one user or group",
                )
                return None
            self.numbers[parsed.e164] = _Claim(owner)
        self.normalised.numbers[path] = parsed.e164
        return parsed.national

    def _value(self, path: Path) -> Any:
        node: Any = self.loaded.data
        for part in path:
            node = node[part]
        return node

    def _extension(
        self, base: Path, entry: dict[str, Any], national: str | None, owner: str
    ) -> None:
        """Claim the explicit extension, or the default one from the number, for `owner`
        (the dotted `base`)."""
        length = self.extension_length
        if "extension" in entry:
            if not self.intact((*base, "extension")):
                return
            extension, path, defaulted = entry["extension"], (*base, "extension"), False
            if len(extension) != length:
                self.error(
                    path,
                    f"extension {extension} has {len(extension)} digits; this "
                    f"site's extensions have {length} (site.extension_length)",
                )
                return
        elif national is not None:
            extension, path, defaulted = (
                default_extension(national, length),
                (*base, "number"),
                True,
            )
        else:
            return
        first = self.extensions.get(extension)
        if first is None:
            self.extensions[extension] = _Claim(owner, defaulted)
            self.normalised.extensions[base] = extension
            return
        why = (
            f"the default extension {extension} (the last {length} digits of the number)"
            if defaulted
            else f"extension {extension}"
        )
        hint = (
            "set an explicit `extension` for one of them" if defaulted or first.defaulted else None
        )
        self.error(path, f"{why} collides with the extension of {first.owner}", hint=hint)

    # -- users -------------------------------------------------------------------
    def _user(self, base: Path, uid: str, u: dict[str, Any]) -> None:
        owner = dotted(base)
        self._text(u, base, "first_name")
        self._text(u, base, "last_name")
        self._username(base, uid, u, owner)
        national = (
            self._number((*base, "number"), owner) if self.usable(u, base, "number") else None
        )
        self._extension(base, u, national, owner)
        catalogue = self.catalogue
        if self.usable(u, base, "package"):
            self._catalogue_value(base, "package", u["package"], catalogue.packages, "package")
        for key, allowed, word in (
            ("options", catalogue.options, "option"),
            ("services", catalogue.services, "service"),
        ):
            if self.usable(u, base, key):
                listed = (*base, key)
                for i, value in enumerate(u[key]):
                    if self.intact((*listed, i)):
                        self._catalogue_value(listed, i, value, allowed, word)
        if self.usable(u, base, "desk_phone"):
            self._catalogue_value(
                base, "desk_phone", u["desk_phone"], catalogue.desk_phones, "desk phone type"
            )
        if self.usable(u, base, "mobile") and self.usable(u["mobile"], (*base, "mobile"), "number"):
            self._number((*base, "mobile", "number"), f"{owner}.mobile", in_pool=False, mobile=True)
        self._deactivation(base, u)

    def _username(self, base: Path, uid: str, u: dict[str, Any], owner: str) -> None:
        explicit = "username" in u
        if explicit and not self.intact((*base, "username")):
            return
        username = u["username"] if explicit else uid
        if explicit:
            self._text(u, base, "username")
        if not explicit:
            bad = sorted(set(uid) & _FORBIDDEN_IN_USERNAME)
            if bad:
                self.error(
                    base,
                    f"the username defaults to the id `{uid}`, which contains "
                    f"{' '.join(bad)}; usernames may not contain + - & @ or white space",
                    at="key",
                    hint="set `username`",
                )
        folded = username.casefold()
        first = self.normalised.usernames.get(folded)
        if first is not None:
            self.error(
                (*base, "username") if explicit else base,
                f"username {username}{'' if explicit else ' (the default: the id)'} is "
                f"already used by {first}; usernames are unique, ignoring case",
                at="value" if explicit else "key",
            )
        else:
            self.normalised.usernames[folded] = owner

    def _catalogue_value(
        self, base: Path, key: str | int, value: str, allowed: frozenset[str], word: str
    ) -> None:
        """`value` at `base`'s `key` is a name the catalogue has (checked for every user:
        the path is built only for an error)."""
        if value not in allowed:
            self.error(
                (*base, key),
                f"unknown {word} `{value}`; the catalogue has: {', '.join(sorted(allowed))}",
                hint=did_you_mean(value, sorted(allowed)),
            )

    def _deactivation(self, base: Path, u: dict[str, Any]) -> None:
        if "status" in u and not self.intact((*base, "status")):
            return
        deactivated = u.get("status") == DEACTIVATED
        if "deactivation" not in u:
            return  # deactivated without a transfer: callers hear the announcement only
        if not deactivated:
            self.error(
                (*base, "deactivation"),
                "`deactivation` is only allowed with status: deactivated",
                at="key",
            )
        elif self.intact((*base, "deactivation", "transfer_to")):
            self._number((*base, "deactivation", "transfer_to"), "", in_pool=False, claim=False)

    # -- groups ------------------------------------------------------------------
    def _numbered_group(self, base: Path, g: dict[str, Any]) -> None:
        owner = dotted(base)
        national = (
            self._number((*base, "number"), owner) if self.usable(g, base, "number") else None
        )
        self._extension(base, g, national, owner)

    def _hunt_group(self, base: Path, g: dict[str, Any]) -> None:
        if self.usable(g, base, "no_answer"):
            forward = (*base, "no_answer", "forward_to")
            if "forward_to" in g["no_answer"] and self.intact(forward):
                self._number(forward, "", in_pool=False, claim=False)
        if (
            self.usable(g, base, "policy")
            and self.whole((*base, "members"))
            and self.whole((*base, "weights"))
        ):
            self._weights(base, g)

    def _weights(self, base: Path, g: dict[str, Any]) -> None:
        weights = g.get("weights")
        members = g.get("members", [])
        if g["policy"] != "weighted":
            if weights is not None:
                self.error((*base, "weights"), "weights apply only to policy: weighted", at="key")
            return
        if weights is None:
            if members:
                self.error(
                    (*base, "policy"),
                    "a weighted hunt group needs `weights`: "
                    "a weight 0-100 per member, summing to 100",
                )
            return
        complete = True
        for member in members:
            if member not in weights:
                self.error((*base, "weights"), f"member {member} has no weight", at="key")
                complete = False
        for member in weights:
            if member not in members:
                self.error(
                    (*base, "weights", member),
                    f"{member} has a weight but is not a member of this group",
                    at="key",
                )
                complete = False
        total = sum(weights.values())
        if complete and total != 100:
            self.error(
                (*base, "weights"), f"weights sum to {total}; they must sum to 100", at="key"
            )
