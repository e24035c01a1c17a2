"""The BroadWorks group behind a site: whether it exists, and its user id domain."""

from __future__ import annotations

from onenet_apply.backends.base import NotFoundError
from onenet_apply.backends.ocip import codec
from onenet_apply.backends.ocip.channel import Channel
from onenet_apply.backends.ocip.link import raise_for_faults


def group_domain(channel: Channel, enterprise: str, group: str) -> str:
    """The default domain of the group's user ids; NotFoundError when the group
    does not exist (the backend then reports an empty site)."""
    request = codec.request("GroupGetRequest22V5", service_provider_id=enterprise, group_id=group)
    answers = channel.exchange([request])
    fault = answers[0]
    if isinstance(fault, codec.Fault) and not fault.is_warning:
        raise NotFoundError(f"group {group} of {enterprise}: {fault.describe()}")
    (response,) = raise_for_faults([request], answers)
    return str(response.default_domain)
