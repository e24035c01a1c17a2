"""A site whose BroadWorks group id is not its own id (`site.platform_id`), through
the real CLI against the loopback peer: plan, apply (site file and saved plan),
credentials reset and import address the group, while onenet keeps naming the
site by its id (plan output, the credentials CSV)."""

from __future__ import annotations

from pathlib import Path

import pytest

from onenet_apply.apply.credentials import read_rows
from tests import test_ocip_walkthrough as walkthrough
from tests.conftest import EXAMPLE
from tests.ocip_kit import DocumentTap

served = walkthrough.served  # the peer in its own process, serving a sandbox file
sent = walkthrough.sent  # every document the CLI sends, checked against the schema

SITE = "berlin-hq"
GROUP = "BER-HQ-01"


def _site_file(workdir: Path, platform_id: str = GROUP, text: str = "") -> Path:
    site = workdir / "site.yaml"
    text = text or EXAMPLE.read_text()
    site.write_text(
        text.replace("  id: berlin-hq\n", f"  id: berlin-hq\n  platform_id: {platform_id}\n")
    )
    return site


@pytest.fixture
def applied(onenet, workdir: Path, served: walkthrough.Served, sent: DocumentTap) -> Path:  # type: ignore[no-untyped-def]
    """The example, with the group id BER-HQ-01, applied over OCI-P and activated."""
    site = _site_file(workdir)
    first = onenet("apply", str(site), "--yes")
    assert first.code == 3, first.err
    assert "Apply: 19 applied, 4 deferred" in first.out
    [csv_file] = workdir.glob("onenet-credentials-berlin-hq-*.csv")
    assert {row["site"] for row in read_rows(csv_file)} == {SITE}
    activate = ("sandbox", "activate", "--site", GROUP, "--all", "--backend", served.sandbox_url)
    assert onenet(*activate).code == 0
    assert onenet("apply", str(site), "--yes").code == 0
    return site


def test_apply_writes_the_named_group_and_converges(
    onenet, workdir: Path, served: walkthrough.Served, applied: Path
) -> None:
    sandbox = served.sandbox()
    assert len(sandbox.read_state(GROUP).users) == 12  # the example's users
    assert not sandbox.read_state(SITE).exists
    planned = onenet("plan", str(applied), "--detailed-exitcode")
    assert planned.code == 0, planned.out
    assert SITE in planned.out and GROUP not in planned.out + planned.err


def test_a_saved_plan_addresses_the_group(
    onenet, workdir: Path, served: walkthrough.Served, applied: Path
) -> None:
    text = applied.read_text().replace("first_name: Anna", "first_name: Annabel")
    applied.write_text(text)
    planned = onenet("plan", str(applied), "--out", "plan.json")
    assert planned.code == 0, planned.err
    assert SITE in planned.out
    result = onenet("apply", "plan.json", "--yes")
    assert result.code == 0, result.err
    assert "1 applied" in result.out
    assert served.sandbox().read_state(GROUP).users["anna"].item.first_name == "Annabel"


def test_credentials_reset_takes_the_group(
    onenet, workdir: Path, served: walkthrough.Served, applied: Path
) -> None:
    args = ("credentials", "reset", "--site", SITE, "anna", "--credentials-out", "reset.csv")
    result = onenet(*args, "--platform-id", GROUP)
    assert result.code == 0, result.err
    [row] = read_rows(workdir / "reset.csv")
    assert (row["site"], row["user_id"], row["event"]) == (SITE, "anna", "reset")
    assert served.sandbox().verify_login(GROUP, "anna", row["password"].lstrip("'"))


def test_import_takes_the_group_and_writes_it(
    onenet, workdir: Path, served: walkthrough.Served, applied: Path
) -> None:
    result = onenet(
        "import", "--site", SITE, "--platform-id", GROUP, "--name", "Berlin HQ",
        "--country", "DE", "--out", "imported.yaml",
    )  # fmt: skip
    assert result.code == 0, result.err
    text = (workdir / "imported.yaml").read_text()
    assert f"  id: {SITE}\n  platform_id: {GROUP}\n" in text
    assert "  anna:" in text
    planned = onenet("plan", "imported.yaml", "--detailed-exitcode")
    assert planned.code == 0, planned.out
    missing = onenet("import", "--site", SITE, "--platform-id", "BER-HQ-02")
    assert missing.code == 1
    assert f"no site {SITE} (platform id BER-HQ-02) on {served.url}" in missing.err


@pytest.mark.parametrize(
    ("value", "column"),
    [("BER HQ", 16), ("-BER", 16), ("B" * 31, 16), ("12", 16)],
)
def test_a_bad_platform_id_is_one_line_with_its_place(
    onenet, workdir: Path, value: str, column: int
) -> None:
    site = _site_file(workdir, value)
    result = onenet("validate", str(site))
    assert result.code == 1
    assert f"{site}:8:{column}:" in result.err + result.out
    assert "platform_id" in result.err + result.out
    assert "Traceback" not in result.err


def test_a_bad_platform_id_option_is_refused(onenet, workdir: Path) -> None:
    result = onenet("import", "--site", SITE, "--platform-id", "BER HQ")
    assert result.code == 1
    assert "must start with a letter or digit" in result.err
