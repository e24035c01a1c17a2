"""A platform's limits on pickup and park groups (`Catalogue.group_limits`), checked
in the site file, so a plan against that platform refuses what it cannot hold with
FILE:LINE:COL at review, instead of an apply stopping half way (BroadWorks: one
name field of 80 characters per group, one call park recall timer per site; the
sandbox has neither limit, and `onenet validate` offline checks the sandbox's)."""

from __future__ import annotations

from typing import Any

from onenet_apply.sitefile.cross_checks import Checking

_SECTIONS = {"call_pickup_groups": "pickup group", "call_park_groups": "park group"}


def check_group_limits(v: Checking, data: dict[str, Any]) -> None:
    limits = v.catalogue.group_limits
    if limits.name_of is not None:
        for section, word in _SECTIONS.items():
            for gid, group in v.section(data, section).items():
                if not v.usable(group, (section, gid), "name"):
                    continue
                recall = section == "call_park_groups" and group.get("recall_timer") is not None
                text = limits.name_of(gid, group["name"], recall)
                if len(text) > limits.max_name_length:
                    v.error(
                        (section, gid, "name"),
                        f"the platform names a {word} in at most {limits.max_name_length} "
                        f"characters, and `{text}` (name and id) has {len(text)}: shorten the name",
                    )
    if limits.one_park_recall_timer:
        _one_recall_timer(v, data)


def _one_recall_timer(v: Checking, data: dict[str, Any]) -> None:
    """Every park group that states recall_timer states the first one's value."""
    first: tuple[str, int] | None = None
    for gid, group in v.section(data, "call_park_groups").items():
        if not v.usable(group, ("call_park_groups", gid), "recall_timer"):
            continue
        timer = group["recall_timer"]
        if first is None:
            first = (gid, timer)
        elif timer != first[1]:
            v.error(
                ("call_park_groups", gid, "recall_timer"),
                f"the platform keeps one call park recall timer per site, and park group "
                f"{first[0]} recalls after {first[1]} s: give every park group that sets "
                "recall_timer the same value",
            )
