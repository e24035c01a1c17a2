"""A sandbox rule the peer enforces comes back over OCI-P as a refusal naming the
rule, for the whole of a user's document (nothing half done), and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from onenet_apply.backends.base import RefusedError
from onenet_apply.model.fields import user_fields
from onenet_apply.model.plan import Action, Kind, Target
from tests.ocip_kit import DocumentTap
from tests.ocip_users_kit import loop
from tests.test_ocip_user_credentials import Recorder, create
from tests.test_ocip_users import BASE, SITE, spec_of


def test_a_taken_number_is_refused_naming_the_rule(
    tmp_path: Path, sent_documents: DocumentTap
) -> None:
    kit = loop(tmp_path, taps=[sent_documents])
    kit.backend.execute(SITE, create(tmp_path, "anna"), Recorder())
    values = user_fields(spec_of(tmp_path, BASE).users["carla"])
    values["number"] = "+493012345601"  # anna's
    twin = Action.make(
        Kind.CREATE, Target("user", "carla"), {k: (None, v) for k, v in values.items()}
    )
    with pytest.raises(
        RefusedError, match=r"number \+493012345601 is held by user/anna \[number-unique\]"
    ):
        kit.backend.execute(SITE, twin, Recorder())
    assert set(kit.sandbox.read_state(SITE).users) == {"anna"}


def test_a_package_over_the_licences_is_refused(
    tmp_path: Path, sent_documents: DocumentTap
) -> None:
    kit = loop(tmp_path, taps=[sent_documents])
    kit.sandbox.configure(SITE, licences={"standard": 1})
    assert dict(kit.backend.read_state(SITE).licences) == {"standard": 1}
    kit.backend.execute(SITE, create(tmp_path, "ben"), Recorder())
    with pytest.raises(RefusedError, match=r"owns 1 standard licences.*\[licences\]"):
        kit.backend.execute(SITE, create(tmp_path, "carla"), Recorder())
    assert set(kit.sandbox.read_state(SITE).users) == {"ben"}


def test_deleting_a_pending_user_is_refused(tmp_path: Path, sent_documents: DocumentTap) -> None:
    kit = loop(tmp_path, taps=[sent_documents])
    kit.backend.execute(SITE, create(tmp_path, "anna"), Recorder())
    delete = Action.make(Kind.DELETE, Target("user", "anna"))
    with pytest.raises(
        RefusedError, match=r"cannot delete user anna: it is pending \[lifecycle:delete\]"
    ):
        kit.backend.execute(SITE, delete, Recorder())
    assert set(kit.sandbox.read_state(SITE).users) == {"anna"}
    assert kit.sandbox.read_state(SITE).users["anna"].item.desk_phone == "yealink-t54w"
