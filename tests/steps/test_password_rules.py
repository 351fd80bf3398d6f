"""The engines' master-password rules: every rule broken on its own, the boundaries, engine detection,
generation within the rules (length, charset, every class), and the rules of a shared password."""

from __future__ import annotations

import string

import pytest

from refarch_tui.steps import password_rules as pr

GOOD = "Abcdefgh1!Abcdefgh1!Abcdefgh1!Ab"  # 32 characters, nothing forbidden


@pytest.mark.parametrize("family", sorted(pr.RULES))
def test_a_good_password_passes_every_engine(family: str) -> None:
    assert pr.broken_rule(GOOD[:30], pr.RULES[family]) is None


@pytest.mark.parametrize("family", sorted(pr.RULES))
@pytest.mark.parametrize("char", ["/", '"', "@", " "])
def test_rds_forbidden_characters_are_named(family: str, char: str) -> None:
    problem = pr.broken_rule(GOOD[:20] + char + "x", pr.RULES[family])
    assert problem and "may not contain" in problem
    assert ("space" if char == " " else repr(char)) in problem


@pytest.mark.parametrize("char", ["&", "'"])
def test_oracle_also_forbids_ampersand_and_apostrophe(char: str) -> None:
    password = GOOD[:20] + char
    problem = pr.broken_rule(password, pr.RULES["oracle"])
    assert problem and repr(char) in problem and "Oracle" in problem
    assert pr.broken_rule(password, pr.RULES["mysql"]) is None


@pytest.mark.parametrize(
    ("family", "low", "high"),
    [("mysql", 8, 41), ("postgres", 8, 128), ("sqlserver", 8, 128), ("oracle", 8, 30)],
)
def test_length_boundaries(family: str, low: int, high: int) -> None:
    rules = pr.RULES[family]
    assert pr.broken_rule("a" * low, rules) is None
    assert pr.broken_rule("a" * high, rules) is None
    short = pr.broken_rule("a" * (low - 1), rules)
    assert short and f"at least {low}" in short
    long = pr.broken_rule("a" * (high + 1), rules)
    assert long and f"at most {high}" in long


def test_non_printable_or_non_ascii_is_refused() -> None:
    assert "printable ASCII" in (pr.broken_rule(GOOD[:20] + "\t", pr.RULES["mysql"]) or "")
    assert "printable ASCII" in (pr.broken_rule(GOOD[:20] + "é", pr.RULES["mysql"]) or "")


@pytest.mark.parametrize(
    ("names", "family"),
    [
        (("aurora-postgresql",), "postgres"),
        (("aurora-mysql",), "mysql"),
        (("mysql",), "mysql"),
        (("mariadb",), "mysql"),
        (("postgres",), "postgres"),
        (("sqlserver-se",), "sqlserver"),
        (("oracle-ee",), "oracle"),
        (("aurora",), "mysql"),
        (("postgres", "mysql"), "postgres"),  # the engine input wins over the module name
        (("redis",), None),
    ],
)
def test_engine_detection(names: tuple[str, ...], family: str | None) -> None:
    assert pr.family_of(*names) == family


@pytest.mark.parametrize("family", sorted(pr.RULES))
def test_generated_passwords_meet_the_rules(family: str) -> None:
    rules = pr.RULES[family]
    for _ in range(50):
        password = pr.generate(rules)
        assert len(password) == min(pr.DEFAULT_LENGTH, rules.max_length)
        assert pr.broken_rule(password, rules) is None
        assert password[0].isalpha()
        assert set(password) <= set(pr.ALPHABET)
        for cls in (string.ascii_lowercase, string.ascii_uppercase, string.digits, pr.PUNCTUATION):
            assert any(c in cls for c in password)


def test_generated_length_is_bounded_by_the_engine() -> None:
    assert len(pr.generate(pr.RULES["mysql"], 41)) == 41
    assert len(pr.generate(pr.RULES["postgres"], 128)) == 128
    with pytest.raises(ValueError, match="8–41"):
        pr.generate(pr.RULES["mysql"], 42)
    with pytest.raises(ValueError, match="8–30"):
        pr.generate(pr.RULES["oracle"], 31)


def test_a_shared_password_meets_the_strictest_rules() -> None:
    rules = pr.strictest(["postgres", "oracle"])
    assert (rules.min_length, rules.max_length) == (8, 30)
    assert "&" in rules.forbidden and "/" in rules.forbidden
    assert pr.strictest([]).max_length == 41
