"""Safety gates: changes that would run, but wait for the admin's explicit say-so.

They are ours, not the platform's (docs/design.md, "Plan statuses and gates"):

- Deleting needs `--allow-delete` or `policy.allow_delete`.
- On a site of 10 or more users, a plan changing or deleting more than
  `policy.max_change_percent` of its existing users needs `--force` (new users
  touch nobody, so finishing an interrupted build is never held back).

A plan with any gated action is not applied at all.
"""

from __future__ import annotations

from onenet_apply.model.plan import Kind, Status
from onenet_apply.model.spec import SiteSpec
from onenet_apply.model.state import SiteState
from onenet_apply.planning.draft import Draft, PlanOptions

DELETE_GATE = "deleting needs --allow-delete or policy.allow_delete: true"
MIN_USERS_FOR_CHANGE_GATE = 10


def apply(drafts: list[Draft], spec: SiteSpec, state: SiteState, options: PlanOptions) -> None:
    if not (options.allow_delete or spec.site.policy.allow_delete):
        for draft in drafts:
            if draft.kind is Kind.DELETE and draft.status is Status.READY:
                draft.hold(Status.GATED, DELETE_GATE)
    total = len(state.users)
    if options.force or total < MIN_USERS_FOR_CHANGE_GATE:
        return
    # the gate protects the users the site has: creating new ones touches nobody
    touched = {
        d.target.id
        for d in drafts
        if d.target.type == "user"
        and d.target.id in state.users
        and d.kind is not Kind.ACTIVATION_FAILED  # a report, not a change
    }
    share = 100 * len(touched) / total
    limit = spec.site.policy.max_change_percent
    if share <= limit:
        return
    reason = (
        f"this plan changes {len(touched)} of {total} users ({share:.0f}%), more than "
        f"policy.max_change_percent ({limit}%): re-run with --force"
    )
    for draft in drafts:
        if draft.target.type == "user" and draft.status is Status.READY:
            draft.hold(Status.GATED, reason)
