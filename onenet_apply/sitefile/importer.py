"""Import: the current site written as a site file that plans to no changes.

Defaults are left out where the planner would derive the same value (username =
id, extension = last digits of the number, desk phone none, status active), so
the file reads like one a person wrote; ids are sorted, and `writing.py` gives it
its one style. The site settings come from what the backend knows: the licences
it owns, and the settings of the site file last applied where it keeps them
(`SiteSettings`); what it does not know is named in the header, to copy over.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import phonenumbers

from onenet_apply.model.catalogue import Catalogue
from onenet_apply.model.spec import (
    DEACTIVATED,
    CallCentre,
    CallParkGroup,
    CallPickupGroup,
    HuntGroup,
    Policy,
    Site,
    User,
    frozen_map,
)
from onenet_apply.model.state import Lifecycle, SiteState
from onenet_apply.model.vocabulary import SECTION_OF
from onenet_apply.savedplan.spec_check import validate_text
from onenet_apply.sitefile.problems import Severity, one_line

SHOWN_PROBLEMS = 3
DEFAULT_EXTENSION_LENGTH = Site("", "", "").extension_length


@dataclass(frozen=True, slots=True)
class Imported:
    """The site file's content, and the header lines saying what the backend did not know."""

    document: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def import_site(
    state: SiteState,
    kept: Site | None = None,
    name: str | None = None,
    country: str | None = None,
    *,
    keeps_settings: bool = True,
    platform_id: str | None = None,
) -> Imported:
    """The site file for `state`. `kept` holds the site settings the backend kept from
    the last apply (None: it kept none, or cannot keep them: `keeps_settings`);
    `name`, `country` and `platform_id` override them."""
    site = _site_settings(state, kept)
    site = replace(
        site,
        name=name or site.name,
        country=country or site.country,
        platform_id=platform_id or site.platform_id,
    )
    length = site.extension_length
    document: dict[str, Any] = {"version": 1, "site": _site_block(site)}
    sections = {
        "users": {uid: _user(c.item, length) for uid, c in sorted(state.users.items())},
        "hunt_groups": {gid: _hunt(c.item, length) for gid, c in sorted(state.hunt_groups.items())},
        "call_centres": {
            gid: _centre(c.item, length) for gid, c in sorted(state.call_centres.items())
        },
        "call_pickup_groups": {
            gid: _pickup(c.item) for gid, c in sorted(state.call_pickup_groups.items())
        },
        "call_park_groups": {
            gid: _park(c.item) for gid, c in sorted(state.call_park_groups.items())
        },
    }
    document.update({k: v for k, v in sections.items() if v})
    notes = [] if kept else _unknown_settings(state, name, country, keeps_settings)
    return Imported(document, notes)


def _site_settings(state: SiteState, kept: Site | None) -> Site:
    """The kept settings, else what the records show; licences as the planner sees
    them: those the backend owns over those the file declared."""
    if kept is None:
        numbers = [c.item.number for c in state.users.values()]
        numbers += [
            c.item.number for c in (*state.hunt_groups.values(), *state.call_centres.values())
        ]
        lengths = Counter(len(c.item.extension) for c in state.users.values())
        length = lengths.most_common(1)[0][0] if lengths else DEFAULT_EXTENSION_LENGTH
        kept = Site(state.site_id, state.site_id, _country_of(numbers), length)
    licences = dict(kept.licences)
    licences.update({k: state.licences[k] for k in sorted(state.licences)})
    return replace(kept, licences=frozen_map(licences))


def _site_block(site: Site) -> dict[str, Any]:
    """The `site:` mapping, defaults left out."""
    out: dict[str, Any] = {"id": site.id, "name": site.name, "country": site.country}
    if site.platform_id:
        out["platform_id"] = site.platform_id
    if site.extension_length != DEFAULT_EXTENSION_LENGTH:
        out["extension_length"] = site.extension_length
    if site.number_pool:
        out["number_pool"] = list(site.number_pool)
    if site.licences:
        out["licences"] = dict(site.licences)
    if site.policy != Policy():
        out["policy"] = {
            "allow_delete": site.policy.allow_delete,
            "max_change_percent": site.policy.max_change_percent,
        }
    if site.unmanaged:
        out["unmanaged"] = list(site.unmanaged)
    return out


def _unknown_settings(
    state: SiteState, name: str | None, country: str | None, keeps_settings: bool
) -> list[str]:
    """Header lines naming the site settings the backend did not give back."""
    copy = [] if name else ["name"]
    copy += ["number_pool", *([] if state.licences else ["licences"]), "policy", "unmanaged"]
    read = [*([] if country else ["country"]), "extension_length"]
    why = (
        "This backend keeps no site settings of the site files applied to it"
        if not keeps_settings
        else f"The backend has kept no site settings for site {state.site_id} yet (it keeps "
        "those of the next apply)"
    )
    return [
        f"{why}: copy {_words(copy)} over from your own site file where it sets them"
        + (" (name here is the site's id)" if not name else "")
        + f"; {_words(read)} {'are' if len(read) > 1 else 'is'} read from the site's records."
    ]


def _words(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def failed_note(state: SiteState) -> str:
    """Header lines naming what the carrier failed to activate: written as they are,
    they plan to no change, only a blocked line until the team retries or removes them."""
    failed = [
        f"{target_type.replace('_', ' ')} {ident}"
        for target_type in SECTION_OF
        for ident, current in sorted(state.section(target_type).items())
        if current.lifecycle is Lifecycle.FAILED
    ]
    if not failed:
        return ""
    return (
        f"Activation failed for {', '.join(failed)}: contact the One Net Business team,\n"
        "who can retry the activation or remove it."
    )


def unwritable(text: str, catalogue: Catalogue) -> str | None:
    """Why the imported site file would not pass `onenet validate` (with the backend's
    catalogue): its first problems, each naming the stored record and value; or None.
    A stored record the platform's rules no longer admit must not become a site file
    that fails its first validation."""
    result = validate_text(text, "import.yaml", catalogue)
    errors = [p for p in result.problems if p.severity is Severity.ERROR]
    if not errors:
        return None
    shown = "; ".join(
        one_line(f"{p.dotted_path}: {p.message}" if p.path else p.message)
        for p in errors[:SHOWN_PROBLEMS]
    )
    more = len(errors) - SHOWN_PROBLEMS
    return shown + (f"; and {more} more" if more > 0 else "")


def _country_of(numbers: list[str]) -> str:
    regions: Counter[str] = Counter()
    for number in numbers:
        try:
            regions[phonenumbers.region_code_for_number(phonenumbers.parse(number))] += 1
        except phonenumbers.NumberParseException:
            continue  # a stored number that is not one: validation names it
    return regions.most_common(1)[0][0] if regions else "DE"


def _extension(out: dict[str, Any], number: str, extension: str, length: int) -> None:
    if extension != number[-length:] or len(extension) != length:
        out["extension"] = extension


def _user(user: User, length: int) -> dict[str, Any]:
    out: dict[str, Any] = {"first_name": user.first_name, "last_name": user.last_name}
    if user.username != user.id:
        out["username"] = user.username
    if user.email:
        out["email"] = user.email
    out["number"] = user.number
    _extension(out, user.number, user.extension, length)
    out["package"] = user.package
    if user.options:
        out["options"] = list(user.options)
    if user.services:
        out["services"] = list(user.services)
    if user.desk_phone != "none":
        out["desk_phone"] = user.desk_phone
    if user.mobile:
        out["mobile"] = {"number": user.mobile.number, "contract": user.mobile.contract}
    if user.status == DEACTIVATED:
        out["status"] = DEACTIVATED
    if user.status == DEACTIVATED and user.deactivation:  # else: the announcement only
        out["deactivation"] = {
            "transfer_to": user.deactivation.transfer_to,
            "caller": user.deactivation.caller,
        }
    return out


def _hunt(group: HuntGroup, length: int) -> dict[str, Any]:
    out: dict[str, Any] = {"name": group.name, "number": group.number}
    _extension(out, group.number, group.extension, length)
    out["policy"] = group.policy
    out["members"] = list(group.members)
    if group.policy == "weighted" and group.weights:
        out["weights"] = dict(group.weights)
    if group.no_answer:
        no_answer = {
            "rings": group.no_answer.rings,
            "forward_to": group.no_answer.forward_to,
            "timeout": group.no_answer.timeout,
        }
        out["no_answer"] = {k: v for k, v in no_answer.items() if v is not None}
    return out


def _centre(group: CallCentre, length: int) -> dict[str, Any]:
    out: dict[str, Any] = {"name": group.name, "number": group.number}
    _extension(out, group.number, group.extension, length)
    out.update(
        edition=group.edition, agents=list(group.agents), supervisors=list(group.supervisors)
    )
    return out


def _pickup(group: CallPickupGroup) -> dict[str, Any]:
    return {"name": group.name, "members": list(group.members)}


def _park(group: CallParkGroup) -> dict[str, Any]:
    out: dict[str, Any] = {"name": group.name, "members": list(group.members)}
    if group.recall_timer is not None:
        out["recall_timer"] = group.recall_timer
    return out
