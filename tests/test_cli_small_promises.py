"""Small promises of the command line, each through the real CLI: an import keeps a
site's extension length, a long Markdown plan is folded, the team's answers to failed
activations say when nothing has failed, a reset names a site that is not there, a
run that wrote one login detail says one."""

from __future__ import annotations

from pathlib import Path

import yaml

from benchmarks.sitegen import generate
from onenet_apply.planning.render import MARKDOWN_FOLD_AFTER
from tests.conftest import EXAMPLE


def test_import_keeps_an_extension_length_other_than_four(onenet, workdir: Path) -> None:
    text = EXAMPLE.read_text().replace("extension_length: 4", "extension_length: 3")
    (workdir / "site.yaml").write_text(text.replace('extension: "1006"', 'extension: "106"'))
    assert onenet("apply", "site.yaml", "--yes").code == 3
    result = onenet("import", "--site", "berlin-hq")
    assert result.code == 0, result.err
    site = yaml.safe_load(result.out)["site"]
    assert site["extension_length"] == 3
    (workdir / "imported.yaml").write_text(result.out)
    assert onenet("plan", "imported.yaml", "--detailed-exitcode").code == 0  # as it stands


def test_a_long_markdown_plan_folds_its_objects(onenet, workdir: Path) -> None:
    (workdir / "site.yaml").write_text("".join(generate(30, 5)))
    result = onenet("plan", "site.yaml", "--format", "markdown")
    assert result.code == 0, result.err
    objects = result.out.count("<details><summary>") - 1
    assert objects > MARKDOWN_FOLD_AFTER
    assert f"<details><summary>All {objects} objects, in the order they run</summary>" in result.out


def test_retry_and_remove_say_when_nothing_has_failed(onenet, workdir: Path) -> None:
    assert onenet("apply", str(EXAMPLE), "--yes").code == 3
    for verb in ("retry", "remove"):
        result = onenet("sandbox", verb, "--site", "berlin-hq", "--all")
        assert (result.code, result.out, result.err) == (0, "", "nothing has failed\n")


def test_a_reset_for_a_site_not_on_the_backend_names_it(onenet, workdir: Path) -> None:
    result = onenet("credentials", "reset", "--site", "nosuch", "--all", "--yes")
    assert result.code == 1
    assert result.err == "Error: no site nosuch on the backend\n"
    assert list(workdir.glob("onenet-credentials-*")) == []


def test_a_run_stopped_after_one_login_detail_says_one(capsys) -> None:  # type: ignore[no-untyped-def]
    from onenet_apply.cli.apply_report import credentials_note, stopped_note

    class Sink:  # what the notes read of a credentials sink
        def __init__(self, written: int) -> None:
            self.written, self.path = written, Path("c.csv")

    for written, word in ((1, "detail"), (2, "details")):
        stopped_note(Sink(written), "Interrupted")  # type: ignore[arg-type]
        credentials_note(Sink(written))  # type: ignore[arg-type]
        captured = capsys.readouterr()
        assert captured.err.startswith(
            f"Interrupted after writing {written} desk phone login {word} to c.csv;"
        )
        assert captured.out.startswith(f"Wrote {written} desk phone login {word} to c.csv;")
