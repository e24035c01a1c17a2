"""Generate large, realistic, valid site files for benchmarks.

`python benchmarks/sitegen.py USERS GROUPS > site.yaml`. The site exercises
every feature: mobiles, deactivated users, weighted hunt groups, call centres
with agents and supervisors, pickup and park groups (each user in at most one).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

DESK_PHONES = ["yealink-t54w", "yealink-t46u", "yealink-w76p", "cisco-8841", "gigaset-n870", "none"]


def user_number(i: int) -> str:
    return f"030 1{i:06d}"


def generate(users: int, groups: int, site_id: str = "bench") -> Iterator[str]:
    if users > 900_000 or groups > 99_999:
        raise ValueError("at most 900,000 users and 99,999 groups")
    yield "# yaml-language-server: $schema=../schemas/site.schema.json\n"
    yield (
        f"version: 1\nsite:\n  id: {site_id}\n  name: Benchmark Site\n  country: DE\n"
        "  extension_length: 6\n"
        '  number_pool: ["+49301000000-+49301999999", "+49302900000-+49302999999"]\n'
        "  policy: {allow_delete: true, max_change_percent: 100}\n"
    )
    yield "users:\n"
    for i in range(users):
        agent = i % 5 == 0
        lines = [
            f"  u{i}:\n",
            f"    first_name: First{i}\n",
            f"    last_name: Last{i}\n",
            f"    username: user.{i}\n",
            f"    email: u{i}@example.com\n",
            f'    number: "{user_number(i)}"\n',
            f"    package: {'professional' if i % 3 else 'standard'}\n",
        ]
        if agent:
            lines.append("    options: [call-centre-standard]\n")
        lines.append(
            "    services: [voicemail, call-forwarding]\n"
            if i % 2
            else "    services: [voicemail]\n"
        )
        lines.append(f"    desk_phone: {DESK_PHONES[i % len(DESK_PHONES)]}\n")
        if i % 10 == 3:
            lines.append(f'    mobile: {{number: "0172 {i:07d}", contract: "C-{i}"}}\n')
        if i % 50 == 7:
            lines.append("    status: deactivated\n")
            lines.append(
                f'    deactivation: {{transfer_to: "{user_number(0)}", caller: hears-number}}\n'
            )
        yield "".join(lines)
    yield from _groups(users, groups)


def _groups(users: int, groups: int) -> Iterator[str]:
    hunt = groups * 2 // 5
    centres = groups // 10
    pickup = (groups - hunt - centres) // 2
    park = groups - hunt - centres - pickup
    number = iter(range(groups))
    active = [i for i in range(users) if i % 50 != 7]
    agents = [i for i in active if i % 5 == 0]

    def group_number() -> str:
        return f"030 29{next(number):05d}"

    if hunt:
        yield "hunt_groups:\n"
    for g in range(hunt):
        members = [active[(g * 3 + k) % len(active)] for k in range(3)] if active else []
        members = list(dict.fromkeys(members))
        weighted = g % 4 == 0 and members
        lines = [
            f"  hg{g}:\n",
            f"    name: Hunt {g}\n",
            f'    number: "{group_number()}"\n',
            f"    policy: {'weighted' if weighted else 'circular'}\n",
            f"    members: [{', '.join(f'u{m}' for m in members)}]\n",
        ]
        if weighted:
            share = [100 // len(members)] * len(members)
            share[0] += 100 - sum(share)
            pairs = ", ".join(f"u{m}: {w}" for m, w in zip(members, share, strict=True))
            lines.append(f"    weights: {{{pairs}}}\n")
        if g % 5 == 1:
            lines.append(
                f'    no_answer: {{rings: 5, forward_to: "{user_number(0)}", timeout: 120}}\n'
            )
        yield "".join(lines)
    if centres:
        yield "call_centres:\n"
    for c in range(centres):
        chosen = [agents[(c * 4 + k) % len(agents)] for k in range(4)] if agents else []
        chosen = list(dict.fromkeys(chosen))
        sup = active[(c * 7) % len(active)] if active else None
        yield (
            f'  cc{c}:\n    name: Centre {c}\n    number: "{group_number()}"\n'
            f"    edition: {'standard' if c % 2 else 'basic'}\n"
            f"    agents: [{', '.join(f'u{a}' for a in chosen)}]\n"
            f"    supervisors: [{f'u{sup}' if sup is not None else ''}]\n"
        )
    for section, count, prefix, extra in (
        ("call_pickup_groups", pickup, "pu", ""),
        ("call_park_groups", park, "pk", "    recall_timer: 90\n"),
    ):
        if not count:
            continue
        yield f"{section}:\n"
        size = max(1, min(20, users // count)) if users else 0
        for p in range(count):
            start = p * size
            members = [f"u{m}" for m in range(start, min(start + size, users))]
            yield (
                f"  {prefix}{p}:\n    name: {section.split('_')[1].title()} {p}\n"
                f"    members: [{', '.join(members)}]\n{extra}"
            )


def main() -> None:
    users = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    groups = int(sys.argv[2]) if len(sys.argv) > 2 else users // 5
    sys.stdout.writelines(generate(users, groups))


if __name__ == "__main__":
    main()
