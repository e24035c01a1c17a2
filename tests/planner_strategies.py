"""Random site files and sandbox settings for the planner's property tests.

A scenario is a site as the platform has it (`current`, brought into the sandbox by
applying it) and the site file the admin now wants (`desired`). Both draw from the
same small sets of numbers, extensions and usernames, so hand-overs are likely:
between users, between a user and a group, and in circles (swaps); usernames
differ in case only; numbers and extensions are explicit or defaulted.

`harsh` scenarios may also be stuck for good, as real sites are: a pool with no
free number (or none at all) so swaps are blocked, too few licences, unmanaged
objects holding what the file wants, and gates that are not lifted. `roomy` ones
always have a way to the desired site, so applying them must converge.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from hypothesis import strategies as st

from onenet_apply.model.spec import SiteSpec
from onenet_apply.planning.planner import PlanOptions
from tests.planner_kit import LIFTED, ROOMY_POOL, head, spec_of, user

NUMBER_SLOTS = range(1, 20)  # 030 123456NN, shared by users and groups
SVC_ROOMY_SLOTS = range(80, 84)  # unmanaged objects' numbers where they must stay out of the way
EXTENSIONS = [f"70{n:02d}" for n in range(1, 8)] + [f"56{n:02d}" for n in range(1, 8)]
PACKAGES = ["standard", "professional"]
PHONES = ["none", "yealink-t54w", "cisco-8841"]
# the call-centre option an agent holds, by the edition's level (catalogue.json)
AGENT_OPTIONS = {1: ["call-centre-basic", "call-centre-standard"], 2: ["call-centre-standard"]}
OPTION_SETS = [[], ["receptionist"], ["call-centre-basic"], ["call-centre-standard"]]
OPTION_SETS.append(["call-centre-standard", "receptionist"])
EDITIONS = {"basic": 1, "standard": 2}
NAME_CASES = ["name", "Name", "NAME"]
LICENCE_NAMES = ["standard", "professional", "call-centre-standard", "receptionist"]
SVC_GLOB = "svc-*"


@dataclass(frozen=True)
class Site:
    """A site file's text and the licences its users need."""

    text: str
    licences: Counter[str]
    layout: Layout  # what a site file swapping some of these values starts from


@dataclass(frozen=True)
class Layout:
    """The order of ids, number slots and username numbers a site was drawn with."""

    ids: tuple[int, ...]
    slots: tuple[int, ...]
    names: tuple[int, ...]


@dataclass(frozen=True)
class Scenario:
    current: Site
    desired: Site
    licences: dict[str, int] | None  # owned on the sandbox; None: unlimited
    options: PlanOptions
    unmanaged: tuple[str, ...]  # ids of objects the desired file leaves alone


def _number(slot: int) -> str:
    return f'"030 123456{slot:02d}"'


def _default_extension(slot: int) -> str:
    return f"56{slot:02d}"


@st.composite
def _users(
    draw: st.DrawFn, layout: Layout, svc_slots: list[int], big: bool
) -> tuple[list[str], dict, Counter[str]]:
    """User lines (ids u0..u11, and svc-N objects the next file will not manage).
    A big site has 10 or more users: the max_change_percent gate applies to it."""
    count = draw(st.integers(10, 11) if big else st.integers(0, 8))
    ids = [f"u{i}" for i in layout.ids[:count]]
    slots, names = layout.slots, layout.names
    used_defaults = {_default_extension(s) for s in slots}
    free_extensions = draw(st.permutations([e for e in EXTENSIONS if e not in used_defaults]))
    lines: list[str] = []
    info: dict[str, dict] = {"agents": {}, "active": [], "ids": ids}
    licences: Counter[str] = Counter()
    for k, uid in enumerate(ids):
        options = draw(st.sampled_from(OPTION_SETS))
        fields = {
            "first_name": draw(st.sampled_from(["Anna", "Ben", "Carla"])),
            "last_name": "X",
            "number": _number(slots[k]),
            "package": draw(st.sampled_from(PACKAGES)),
            "desk_phone": draw(st.sampled_from(PHONES)),
        }
        if draw(st.integers(0, 4)):  # else the username defaults to the id
            fields["username"] = f"{draw(st.sampled_from(NAME_CASES))}.{names[k]}"
        if free_extensions and draw(st.booleans()):
            fields["extension"] = f'"{free_extensions.pop()}"'
        if options:
            fields["options"] = f"[{', '.join(options)}]"
        licences.update([fields["package"], *options])
        if draw(st.integers(0, 5)) == 0:
            fields["status"] = "deactivated"
            fields["deactivation"] = '{transfer_to: "030 12345699", caller: presses-key}'
        else:
            info["active"].append(uid)
            level = max(
                (lvl for lvl, opts in AGENT_OPTIONS.items() if set(opts) & set(options)), default=0
            )
            if level:
                info["agents"][uid] = level
        lines.append(f"  {uid}: {{{', '.join(f'{k}: {v}' for k, v in fields.items())}}}\n")
    for n, slot in enumerate(svc_slots):
        lines.append(
            f"  svc-{n}: {{first_name: Svc, last_name: X, number: {_number(slot)},"
            f" username: svc.{n}, package: standard}}\n"
        )
        licences["standard"] += 1
    info["extensions"] = free_extensions
    return lines, info, licences


@st.composite
def site_files(
    draw: st.DrawFn,
    *,
    svc: int = 0,
    big: bool = False,
    like: Layout | None = None,
    svc_roomy: bool = True,
    pool: str = "roomy",
    unmanaged: tuple[str, ...] = (),
    groups: tuple[str, ...] = ("g1", "g2"),
    allow_delete: bool = True,
    max_change_percent: int = 100,
) -> Site:
    """A valid random site file. `svc` unmanaged-to-be users come last; `pool` is
    roomy (a hundred numbers), full (exactly the numbers the file uses) or none."""
    if like is None:
        layout = Layout(
            tuple(draw(st.permutations(range(12)))),
            tuple(draw(st.permutations(NUMBER_SLOTS))),
            tuple(draw(st.permutations(range(12)))),
        )
    else:  # the same site with values swapped in a circle: users' and groups' numbers
        layout = Layout(like.ids, _swapped(draw, like.slots), _swapped(draw, like.names))
    slots = list(layout.slots)
    # unmanaged-to-be users hold numbers the next file may want, or ones out of its way
    svc_slots = list(SVC_ROOMY_SLOTS[:svc] if svc_roomy else slots[-svc:] if svc else [])
    user_lines, info, licences = draw(_users(layout, svc_slots, big))
    ids, active, agents = info["ids"], info["active"], info["agents"]
    used = [slots[k] for k in range(len(ids))] + svc_slots
    lines = ["users:\n", *user_lines] if user_lines else []
    group_slots = slots[len(ids) : len(ids) + 2]
    extensions = info["extensions"]

    def extension() -> str:
        return f', extension: "{extensions.pop()}"' if extensions and draw(st.booleans()) else ""

    if draw(st.booleans()):
        used.append(group_slots[0])
        members = draw(st.lists(st.sampled_from(active), unique=True)) if active else []
        weighted = bool(members) and draw(st.booleans())
        extra = ""
        if weighted:
            weights = [100 // len(members)] * len(members)
            weights[0] += 100 - sum(weights)
            pairs = ", ".join(f"{m}: {w}" for m, w in zip(members, weights, strict=True))
            extra = f", weights: {{{pairs}}}"
        lines.append(
            f"hunt_groups:\n  sales: {{name: Sales, number: {_number(group_slots[0])}"
            f"{extension()}, policy: {'weighted' if weighted else 'circular'},"
            f" members: [{', '.join(members)}]{extra}}}\n"
        )
    if draw(st.booleans()):
        used.append(group_slots[1])
        edition = draw(st.sampled_from(sorted(EDITIONS)))
        able = sorted(a for a, level in agents.items() if level >= EDITIONS[edition])
        chosen = draw(st.lists(st.sampled_from(able), unique=True)) if able else []
        sups = draw(st.lists(st.sampled_from(active), unique=True, max_size=2)) if active else []
        lines.append(
            f"call_centres:\n  cc: {{name: CC, number: {_number(group_slots[1])}{extension()},"
            f" edition: {edition}, agents: [{', '.join(chosen)}],"
            f" supervisors: [{', '.join(sups)}]}}\n"
        )
    everyone = [*ids, *(f"svc-{n}" for n in range(svc))]
    for section in ("call_pickup_groups", "call_park_groups"):
        shuffled = draw(st.permutations(everyone)) if everyone else []
        split = draw(st.integers(0, len(shuffled)))
        parts = {"g1": ("One", shuffled[:split]), "g2": ("Two", shuffled[split:])}
        lines.append(f"{section}:\n")
        for gid in groups:
            name, members = parts[gid]
            lines.append(f"  {gid}: {{name: {name}, members: [{', '.join(members)}]}}\n")
    numbers = {"roomy": ROOMY_POOL, "none": None}.get(pool)
    if pool == "full":  # every number of the pool in use: nothing to move a swap through
        numbers = tuple(f"+493012345{600 + s}" for s in sorted(used)) or None
    site_extra = f"  unmanaged: [{', '.join(repr(g) for g in unmanaged)}]\n" if unmanaged else ""
    text = head(
        allow_delete=allow_delete,
        max_change_percent=max_change_percent,
        pool=numbers,
        site_extra=site_extra,
    )
    return Site(text + "".join(lines), licences, layout)


def _swapped(draw: st.DrawFn, values: tuple[int, ...]) -> tuple[int, ...]:
    """`values` with its first few entries rotated in a circle of two or three."""
    circle = draw(st.lists(st.integers(0, 7), min_size=2, max_size=3, unique=True))
    out = list(values)
    for a, b in zip(circle, circle[1:] + circle[:1], strict=True):
        out[b] = values[a]
    return tuple(out)


@st.composite
def scenarios(draw: st.DrawFn, *, harsh: bool) -> Scenario:
    """A current and a desired site, the licences the sandbox owns and the options."""
    svc = draw(st.integers(0, 2))
    big = harsh and draw(st.integers(0, 3)) == 0  # where the change gate may hold users
    current = draw(site_files(svc=svc, big=big, svc_roomy=not harsh))
    globs: tuple[str, ...] = (SVC_GLOB,) if svc else ()
    unmanaged = tuple(f"svc-{n}" for n in range(svc))
    if harsh and draw(st.integers(0, 3)) == 0:  # a group the file no longer manages
        globs += ("g2",)
        unmanaged += ("g2",)
    like = current.layout if draw(st.booleans()) else None
    if not harsh:
        desired = draw(site_files(unmanaged=globs, like=like))
        needed = desired.licences + Counter(standard=svc)  # the unmanaged users keep theirs
        licences = None
        if draw(st.booleans()):  # exactly enough, or one spare: frees must come first
            licences = {n: needed[n] + draw(st.integers(0, 1)) for n in LICENCE_NAMES}
        return Scenario(current, desired, licences, LIFTED, unmanaged)
    desired = draw(
        site_files(
            pool=draw(st.sampled_from(["roomy", "roomy", "full", "none"])),
            like=like,
            unmanaged=globs,
            groups=("g1",) if "g2" in globs else ("g1", "g2"),
            allow_delete=draw(st.booleans()),
            max_change_percent=draw(st.sampled_from([0, 30, 100])),
        )
    )
    licences = None
    if draw(st.booleans()):  # short: some creates and upgrades are blocked
        licences = {n: draw(st.integers(0, 4)) for n in LICENCE_NAMES}
    options = PlanOptions(allow_delete=draw(st.booleans()), force=draw(st.booleans()))
    return Scenario(current, desired, licences, options, unmanaged)


def sites() -> st.SearchStrategy[SiteSpec]:
    """One valid random site, validated (for tests that need a site, not a scenario)."""
    return site_files().map(lambda site: spec_of(site.text))


def _known(
    current: str,
    desired: str,
    licences: dict[str, int] | None = None,
    pool: tuple[str, ...] | None = ROOMY_POOL,
) -> Scenario:
    def site(body: str, pool: tuple[str, ...] | None) -> Site:
        return Site(head(pool=pool) + body, Counter(), Layout((), (), ()))

    return Scenario(site(current, ROOMY_POOL), site(desired, pool), licences, LIFTED, ())


_CC = 'call_centres:\n  cc: {name: CC, number: "030 123456%s", edition: %s, agents: [anna]}\n'
# circles that random sites reach only now and then, run every time: a change handing
# a number over is split from the rest of it, and a licence trade with none spare
SPLIT_EXAMPLES = (
    _known(  # the new user takes the hunt group's number; its weights include her
        "users:\n"
        + user("anna", 1)
        + 'hunt_groups:\n  sales: {name: S, number: "030 12345619", policy: circular,'
        " members: [anna]}\n",
        "users:\n"
        + user("anna", 1)
        + user("zoe", 19)
        + 'hunt_groups:\n  sales: {name: S, number: "030 12345613", policy: weighted,'
        " members: [anna, zoe], weights: {anna: 50, zoe: 50}}\n",
    ),
    _known(  # the agent hands its number to the centre and drops to the basic option
        "users:\n" + user("anna", 18, options="[call-centre-standard]") + _CC % ("03", "standard"),
        "users:\n" + user("anna", 1, options="[call-centre-basic]") + _CC % (18, "basic"),
    ),
)
LICENCE_TRADE = _known(
    "users:\n" + user("anna", 1) + user("ben", 2, package="professional"),
    "users:\n" + user("anna", 1, package="professional") + user("ben", 2),
    {"standard": 1, "professional": 1},
)
FULL_POOL_SWAP = _known(  # two users trade numbers, and the pool has no other
    "users:\n" + user("anna", 1) + user("ben", 2),
    "users:\n" + user("anna", 2) + user("ben", 1),
    pool=("+493012345601", "+493012345602"),
)
