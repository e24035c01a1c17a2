"""The mutation harness plants exactly the bugs it names, and only compilable ones."""

from __future__ import annotations

from tools.mutate import apply, load_equivalent, mutants

SOURCE = '''"""Doc."""
LIMIT = 10


def f(xs: list[int], flag: bool) -> bool:
    for x in xs:
        if x < LIMIT and not flag:
            continue
        raise ValueError(f"{x + 1}")
    return True
'''


def test_each_operator_and_its_mutated_source() -> None:
    found = {m.key: apply(SOURCE, m) for m in mutants(SOURCE, "m")}
    assert sorted(found) == [
        "m:<module>:int+1#0",
        "m:<module>:int-1#0",
        "m:f:And->Or#0",
        "m:f:Lt->LtE#0",
        "m:f:continue->break#0",
        "m:f:continue->return#0",
        "m:f:delete-Continue#0",
        "m:f:delete-Raise#0",
        "m:f:delete-Return#0",
        "m:f:not-removed#0",
        "m:f:return-negated#0",
    ]
    assert "LIMIT = 11\n" in found["m:<module>:int+1#0"]
    assert "if (x <= LIMIT) and not flag:" in found["m:f:Lt->LtE#0"]
    assert "if (x < LIMIT or not flag):" in found["m:f:And->Or#0"]
    assert "and (flag):" in found["m:f:not-removed#0"]
    assert "            break\n" in found["m:f:continue->break#0"]
    assert "        pass\n    return True" in found["m:f:delete-Raise#0"]
    assert "    return False\n" in found["m:f:return-negated#0"]
    for text in found.values():
        compile(text, "m.py", "exec")
        assert text != SOURCE


def test_equivalent_list_format(tmp_path) -> None:
    listed = tmp_path / "equivalent.txt"
    listed.write_text("# comment\n\nm:f:Lt->LtE#0  x < LIMIT  -- x is never equal to LIMIT\n")
    assert load_equivalent(listed) == {"m:f:Lt->LtE#0": "x is never equal to LIMIT"}
