"""Validation: the schema, then the rules of the platform, then a typed SiteSpec.

The schema catches shape and type errors; this module adds what a schema cannot
say (numbers valid in the site's country and unique, extension defaults and
collisions, references between users and groups, one pickup and one park group
per user, licence counts, catalogue values). Objects that already broke the
schema are not checked further, so one typo gives one message, not a cascade.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from onenet_apply.catalogue import Catalogue, default_catalogue
from onenet_apply.hints import did_you_mean
from onenet_apply.loader import LoadedFile, load_site_file
from onenet_apply.numbering import NumberPool, default_extension, parse_pool_entry
from onenet_apply.phone import InvalidNumber, known_region, parse_number
from onenet_apply.problems import Path, Problem, ProblemList, Severity
from onenet_apply.schema import Violation, site_checker
from onenet_apply.spec import (
    DEACTIVATED,
    NO_DESK_PHONE,
    CallCentre,
    CallParkGroup,
    CallPickupGroup,
    Deactivation,
    HuntGroup,
    Mobile,
    NoAnswer,
    Policy,
    Site,
    SiteSpec,
    User,
    frozen_map,
)

_FORBIDDEN_IN_USERNAME = set("+-&@")
GROUP_SECTIONS = ("hunt_groups", "call_centres", "call_pickup_groups", "call_park_groups")
_LABELS = {
    "users": "user",
    "hunt_groups": "hunt group",
    "call_centres": "call centre",
    "call_pickup_groups": "call pickup group",
    "call_park_groups": "call park group",
}


@dataclass(slots=True)
class Validation:
    path: str
    spec: SiteSpec | None
    problems: list[Problem]
    dropped: int = 0  # problems beyond the report limit

    @property
    def ok(self) -> bool:
        return self.spec is not None


def validate_file(path: str, catalogue: Catalogue | None = None) -> Validation:
    """Load and validate one site file; never raises for bad input."""
    return validate_loaded(load_site_file(path), catalogue or default_catalogue())


def validate_loaded(loaded: LoadedFile, catalogue: Catalogue) -> Validation:
    checker = _Validator(loaded, catalogue)
    spec = checker.run()
    problems = sorted(loaded.problems.items, key=Problem.sort_key)
    return Validation(loaded.path, spec, problems, loaded.problems.dropped)


@dataclass(slots=True)
class _Claim:
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
        self.users: dict[str, User] = {}

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

    def warning(self, path: Path, message: str) -> None:
        self.error(path, message, severity=Severity.WARNING)

    # -- the run -----------------------------------------------------------------
    def run(self) -> SiteSpec | None:
        data = self.loaded.data
        if data is None:
            return None
        self._schema(data)
        site = self._site(data)
        users = self._users(data.get("users"))
        groups = {section: self._groups(section, data.get(section)) for section in GROUP_SECTIONS}
        self._memberships(data)
        self._licences(data)
        if self.problems.has_errors or site is None:
            return None
        return SiteSpec(site, frozen_map(users), **{k: frozen_map(v) for k, v in groups.items()})

    def _schema(self, data: dict[str, Any]) -> None:
        poisoned = self.loaded.poisoned
        for path in poisoned:
            self.broken.add(path[:2])
        for violation in site_checker()(data) or ():
            path = violation.path
            if any(path[: len(p)] == p for p in poisoned):
                continue
            self.broken.add(path[:2] if path[:1] != ("site",) else ("site",))
            self.error(path, violation.message, violation.anchor, self._schema_hint(violation))

    def _schema_hint(self, violation: Violation) -> str | None:
        if not violation.expected_string:
            return violation.hint
        raw = self.source.raw_scalar(violation.path)
        if raw is None:
            return violation.hint
        return f'write "{raw}" in quotes to keep it as written'

    # -- site --------------------------------------------------------------------
    def _site(self, data: dict[str, Any]) -> Site | None:
        raw = data.get("site")
        if not isinstance(raw, dict):
            return None
        country = raw.get("country")
        if isinstance(country, str) and len(country) == 2 and country.isupper():
            if known_region(country):
                self.region = country
            else:
                self.error(
                    ("site", "country"),
                    f"unknown region {country!r}",
                    hint="use an ISO 3166 code such as DE, GB or NL",
                )
        length = raw.get("extension_length", 4)
        if type(length) is int and 2 <= length <= 6:
            self.extension_length = length
        pool = raw.get("number_pool") or []
        if self.region and isinstance(pool, list):
            ranges = []
            for i, entry in enumerate(pool):
                if not isinstance(entry, str):
                    continue
                try:
                    ranges.append(parse_pool_entry(entry, self.region))
                except InvalidNumber as e:
                    self.error(("site", "number_pool", i), str(e))
            self.pool = NumberPool(ranges)
        if ("site",) in self.broken:
            return None
        policy = raw.get("policy") or {}
        return Site(
            id=raw["id"],
            name=raw["name"],
            country=raw["country"],
            extension_length=self.extension_length,
            number_pool=tuple(pool),
            licences=frozen_map(raw.get("licences")),
            policy=Policy(policy.get("allow_delete", False), policy.get("max_change_percent", 30)),
            unmanaged=tuple(raw.get("unmanaged") or ()),
        )

    # -- numbers and extensions ------------------------------------------------
    def _number(
        self,
        path: Path,
        text: str,
        owner: str,
        *,
        in_pool: bool = True,
        claim: bool = True,
        mobile: bool = False,
    ) -> tuple[str, str] | None:
        """Parse, check and claim a number; returns (e164, national) or None."""
        if self.region is None:
            return None
        try:
            parsed = parse_number(text, self.region)
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
        return parsed.e164, parsed.national

    def _extension(
        self, base: Path, entry: dict[str, Any], national: str | None, owner: str
    ) -> str | None:
        explicit = entry.get("extension")
        length = self.extension_length
        if explicit is not None:
            if len(explicit) != length:
                self.error(
                    (*base, "extension"),
                    f"extension {explicit} has {len(explicit)} digits; this site's "
                    f"extensions have {length} (site.extension_length)",
                )
                return None
            extension, path, defaulted = explicit, (*base, "extension"), False
        elif national is None:
            return None
        else:
            extension, path, defaulted = (
                default_extension(national, length),
                (*base, "number"),
                True,
            )
        first = self.extensions.get(extension)
        if first is None:
            self.extensions[extension] = _Claim(owner, defaulted)
            return extension
        why = (
            f"the default extension {extension} (the last {length} digits of the number)"
            if defaulted
            else f"extension {extension}"
        )
        hint = (
            "set an explicit `extension` for one of them" if defaulted or first.defaulted else None
        )
        self.error(path, f"{why} collides with the extension of {first.owner}", hint=hint)
        return None

    # -- users -------------------------------------------------------------------
    def _users(self, raw: Any) -> dict[str, User]:
        if not isinstance(raw, dict):
            return {}
        usernames: dict[str, str] = {}
        for uid, entry in raw.items():
            base: Path = ("users", uid)
            if base in self.broken or ("users",) in self.broken:
                continue
            user = self._user(base, uid, entry, usernames)
            if user is not None:
                self.users[uid] = user
        return self.users

    def _user(
        self, base: Path, uid: str, u: dict[str, Any], usernames: dict[str, str]
    ) -> User | None:
        owner = f"users.{uid}"
        ok = True
        username = u.get("username")
        if username is None:
            bad = sorted(set(uid) & _FORBIDDEN_IN_USERNAME)
            if bad:
                self.error(
                    base,
                    f"the username defaults to the id `{uid}`, which contains "
                    f"{' '.join(bad)}; usernames may not contain + - & @ or white space",
                    at="key",
                    hint="set `username`",
                )
                ok = False
            username = uid
        folded = username.casefold()
        if folded in usernames:
            explicit = "username" in u
            self.error(
                (*base, "username") if explicit else base,
                f"username {username}{'' if explicit else ' (the default: the id)'} is "
                f"already used by {usernames[folded]}; usernames are unique, ignoring case",
                at="value" if explicit else "key",
            )
            ok = False
        usernames[folded] = owner

        number = self._number((*base, "number"), u["number"], owner)
        extension = self._extension(base, u, number[1] if number else None, owner)
        ok = ok and number is not None and extension is not None
        ok &= self._catalogue_value(
            (*base, "package"), u["package"], self.catalogue.packages, "package"
        )
        for key, allowed, word in (
            ("options", self.catalogue.options, "option"),
            ("services", self.catalogue.services, "service"),
        ):
            for i, value in enumerate(u.get(key, ())):
                ok &= self._catalogue_value((*base, key, i), value, allowed, word)
        desk_phone = u.get("desk_phone", NO_DESK_PHONE)
        ok &= self._catalogue_value(
            (*base, "desk_phone"), desk_phone, self.catalogue.desk_phones, "desk phone type"
        )
        mobile = self._mobile(base, u.get("mobile"), owner)
        ok &= mobile is not False
        deactivation = self._deactivation(base, u)
        ok &= deactivation is not False
        if not ok or number is None or extension is None:
            return None
        return User(
            id=uid,
            first_name=u["first_name"],
            last_name=u["last_name"],
            username=username,
            number=number[0],
            extension=extension,
            package=u["package"],
            email=u.get("email"),
            options=tuple(u.get("options", ())),
            services=tuple(u.get("services", ())),
            desk_phone=desk_phone,
            mobile=mobile or None,
            status=u.get("status", "active"),
            deactivation=deactivation or None,
        )

    def _catalogue_value(self, path: Path, value: str, allowed: frozenset[str], word: str) -> bool:
        if value in allowed:
            return True
        self.error(
            path,
            f"unknown {word} `{value}`; the catalogue has: {', '.join(sorted(allowed))}",
            hint=did_you_mean(value, sorted(allowed)),
        )
        return False

    def _mobile(self, base: Path, raw: dict[str, Any] | None, owner: str) -> Mobile | bool | None:
        if raw is None:
            return None
        number = self._number(
            (*base, "mobile", "number"),
            raw["number"],
            f"{owner}.mobile",
            in_pool=False,
            mobile=True,
        )
        return Mobile(number[0], raw["contract"]) if number else False

    def _deactivation(self, base: Path, u: dict[str, Any]) -> Deactivation | bool | None:
        raw = u.get("deactivation")
        deactivated = u.get("status") == DEACTIVATED
        if deactivated and raw is None:
            self.error(
                (*base, "status"),
                "a deactivated user needs `deactivation` "
                "(transfer_to and caller) to say what callers hear",
            )
            return False
        if raw is None:
            return None
        if not deactivated:
            self.error(
                (*base, "deactivation"),
                "`deactivation` is only allowed with status: deactivated",
                at="key",
            )
            return False
        target = self._number(
            (*base, "deactivation", "transfer_to"),
            raw["transfer_to"],
            "",
            in_pool=False,
            claim=False,
        )
        return Deactivation(target[0], raw["caller"]) if target else False

    # -- groups ------------------------------------------------------------------
    def _groups(self, section: str, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict) or (section,) in self.broken:
            return {}
        built: dict[str, Any] = {}
        for gid, g in raw.items():
            base: Path = (section, gid)
            if base in self.broken:
                continue
            group = getattr(self, f"_{section}")(base, gid, g, f"{section}.{gid}")
            if group is not None:
                built[gid] = group
        return built

    def _numbered(self, base: Path, g: dict[str, Any], owner: str) -> tuple[str, str] | None:
        number = self._number((*base, "number"), g["number"], owner)
        extension = self._extension(base, g, number[1] if number else None, owner)
        if number is None or extension is None:
            return None
        return number[0], extension

    def _hunt_groups(self, base: Path, gid: str, g: dict[str, Any], owner: str) -> HuntGroup | None:
        numbered = self._numbered(base, g, owner)
        ok = self._weights(base, g)
        no_answer = None
        if "no_answer" in g:
            raw = g["no_answer"]
            forward = raw.get("forward_to")
            if forward is not None:
                parsed = self._number(
                    (*base, "no_answer", "forward_to"), forward, "", in_pool=False, claim=False
                )
                ok = ok and parsed is not None
                forward = parsed[0] if parsed else None
            no_answer = NoAnswer(raw.get("rings"), forward, raw.get("timeout"))
        if numbered is None or not ok:
            return None
        return HuntGroup(
            gid,
            g["name"],
            numbered[0],
            numbered[1],
            g["policy"],
            tuple(g.get("members", ())),
            frozen_map(g.get("weights")),
            no_answer,
        )

    def _weights(self, base: Path, g: dict[str, Any]) -> bool:
        weights = g.get("weights")
        members = g.get("members", [])
        if g["policy"] != "weighted":
            if weights is not None:
                self.error((*base, "weights"), "weights apply only to policy: weighted", at="key")
                return False
            return True
        if weights is None:
            if members:
                self.error(
                    (*base, "policy"),
                    "a weighted hunt group needs `weights`: "
                    "a weight 0-100 per member, summing to 100",
                )
                return False
            return True
        ok = True
        for member in members:
            if member not in weights:
                self.error((*base, "weights"), f"member {member} has no weight", at="key")
                ok = False
        for member in weights:
            if member not in members:
                self.error(
                    (*base, "weights", member),
                    f"{member} has a weight but is not a member of this group",
                    at="key",
                )
                ok = False
        total = sum(weights.values())
        if ok and total != 100:
            self.error(
                (*base, "weights"), f"weights sum to {total}; they must sum to 100", at="key"
            )
            ok = False
        return ok

    def _call_centres(
        self, base: Path, gid: str, g: dict[str, Any], owner: str
    ) -> CallCentre | None:
        numbered = self._numbered(base, g, owner)
        if numbered is None:
            return None
        return CallCentre(
            gid,
            g["name"],
            numbered[0],
            numbered[1],
            g["edition"],
            tuple(g.get("agents", ())),
            tuple(g.get("supervisors", ())),
        )

    def _call_pickup_groups(
        self, base: Path, gid: str, g: dict[str, Any], owner: str
    ) -> CallPickupGroup:
        return CallPickupGroup(gid, g["name"], tuple(g.get("members", ())))

    def _call_park_groups(
        self, base: Path, gid: str, g: dict[str, Any], owner: str
    ) -> CallParkGroup:
        return CallParkGroup(gid, g["name"], tuple(g.get("members", ())), g.get("recall_timer"))

    # -- references between users and groups -------------------------------------
    def _memberships(self, data: dict[str, Any]) -> None:
        users = data.get("users") if isinstance(data.get("users"), dict) else {}
        known = list(users)
        only_one: dict[str, dict[str, str]] = {"call_pickup_groups": {}, "call_park_groups": {}}
        for section in GROUP_SECTIONS:
            groups = data.get(section)
            if not isinstance(groups, dict) or (section,) in self.broken:
                continue
            for gid, g in groups.items():
                if (section, gid) in self.broken:
                    continue
                for role in ("members", "agents", "supervisors"):
                    for i, uid in enumerate(g.get(role, ())):
                        path = (section, gid, role, i)
                        if uid not in users:
                            self.error(path, f"unknown user `{uid}`", hint=did_you_mean(uid, known))
                            continue
                        self._membership_rules(section, gid, g, role, uid, path, only_one)

    def _membership_rules(
        self,
        section: str,
        gid: str,
        g: dict[str, Any],
        role: str,
        uid: str,
        path: Path,
        only_one: dict[str, dict[str, str]],
    ) -> None:
        if section in only_one:
            first = only_one[section].get(uid)
            if first is not None:
                word = _LABELS[section]
                self.error(
                    path, f"{uid} is already in {word} {first}; a user is in at most one {word}"
                )
            only_one[section][uid] = gid
        user = self.users.get(uid)
        if user is None:
            return
        if user.status == DEACTIVATED and (section == "hunt_groups" or role == "agents"):
            self.warning(
                path,
                f"{uid} is deactivated and stays in this "
                f"{_LABELS[section]}; callers may reach the announcement",
            )
        if role == "agents":
            needed = self.catalogue.edition_levels.get(g["edition"], 0)
            if self.catalogue.agent_level(user.options) < needed:
                options = self.catalogue.options_for_level(needed)
                self.error(
                    path,
                    f"agent {uid} needs a call-centre agent option for the "
                    f"{g['edition']} edition ({' or '.join(options)}) in its options",
                )

    def _licences(self, data: dict[str, Any]) -> None:
        site = data.get("site")
        owned = site.get("licences") if isinstance(site, dict) else None
        if not isinstance(owned, dict) or ("site",) in self.broken:
            return
        used: Counter[str] = Counter()
        for user in self.users.values():
            used[user.package] += 1
            used.update(user.options)
        known = self.catalogue.packages | self.catalogue.options
        for name, count in owned.items():
            path = ("site", "licences", name)
            if name not in known:
                self.error(
                    path,
                    f"unknown package or option `{name}`",
                    at="key",
                    hint=did_you_mean(name, sorted(known)),
                )
            elif used[name] > count:
                self.error(path, f"{used[name]} users need a {name} licence; the site owns {count}")
