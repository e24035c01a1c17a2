"""One word for one thing: a user that is not deactivated is `activated` in the plan,
in `sandbox status` and in site files (the platform's word), while saved plans keep
the value `active` their digests were made over; `sandbox configure` speaks the
option's own words, not Python's."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import EXAMPLE


def test_the_plan_says_activated_as_sandbox_status_does(onenet, workdir: Path) -> None:
    text = onenet("plan", str(EXAMPLE))
    assert 'status: "activated" -> "deactivated"' in text.out
    assert '"active"' not in text.out
    markdown = onenet("plan", str(EXAMPLE), "--format", "markdown")
    assert 'status: "activated" -> "deactivated"' in markdown.out
    saved = json.loads(onenet("plan", str(EXAMPLE), "--format", "json").out)
    [karl] = [a for a in saved["actions"] if a["id"] == "user/karl/deactivate"]
    assert {"field": "status", "before": "active", "after": "deactivated"} in karl["changes"]
    assert onenet("apply", str(EXAMPLE), "--yes").code == 3
    assert onenet("sandbox", "activate", "--site", "berlin-hq", "anna").code == 0
    status = onenet("sandbox", "status", "--site", "berlin-hq")
    assert "user               anna          activated" in status.out


def test_a_site_file_may_say_activated(onenet, workdir: Path) -> None:
    both = {}
    for word in ("activated", "active"):
        site = workdir / f"{word}.yaml"
        site.write_text(
            EXAMPLE.read_text().replace(
                "    desk_phone: yealink-t54w\n",
                f"    desk_phone: yealink-t54w\n    status: {word}\n",
                1,
            )
        )
        assert f"status: {word}" in site.read_text()
        result = onenet("plan", str(site), "--format", "json")
        assert result.code == 0, result.err
        both[word] = json.loads(result.out)["spec_digest"]
    assert both["activated"] == both["active"]  # saved plans made before stay valid


def test_a_misspelt_status_is_hinted_with_the_platforms_word(onenet, workdir: Path) -> None:
    site = workdir / "site.yaml"
    site.write_text(
        EXAMPLE.read_text().replace(
            "    desk_phone: yealink-t54w\n", "    desk_phone: yealink-t54w\n    status: activ\n", 1
        )
    )
    result = onenet("validate", str(site))
    assert result.code == 1
    assert (
        "users.anna.status: must be one of activated, deactivated; not the text 'activ' "
        "(did you mean `activated`?)"
    ) in result.err


def test_sandbox_configure_speaks_the_options_words(onenet, workdir: Path) -> None:
    result = onenet("sandbox", "configure", "--site", "berlin-hq", "--licence", "standard=4")
    assert result.code == 0, result.err
    assert result.out == "site berlin-hq: activation manual, licences standard=4\n"
