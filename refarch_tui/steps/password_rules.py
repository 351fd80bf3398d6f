"""Master-password rules of the RDS engines, and generating passwords within them (pure: no I/O).

RDS refuses `/`, `"`, `@` and space in every engine's master password. Lengths: MySQL, MariaDB and Aurora
MySQL take 8–41 characters (41 is the length of MySQL's native password hash, `*` + 40 hex digits, which RDS
kept as the limit); PostgreSQL (and Aurora PostgreSQL) and SQL Server 8–128; Oracle 8–30 and also refuses
`&` and `'`. The seed asks for 30+ characters: the default is 32, inside every engine's range.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

DEFAULT_LENGTH = 32
RDS_FORBIDDEN = ("/", '"', "@", " ")
# punctuation every engine accepts and shells do not mangle (no quotes, backslashes, `$`, `&`)
PUNCTUATION = "!#%+-.:=?^_~"
ALPHABET = string.ascii_letters + string.digits + PUNCTUATION


@dataclass(frozen=True)
class EngineRules:
    family: str  # mysql | postgres | sqlserver | oracle
    label: str
    min_length: int
    max_length: int
    forbidden: tuple[str, ...] = RDS_FORBIDDEN


RULES: dict[str, EngineRules] = {
    "mysql": EngineRules("mysql", "MySQL/MariaDB/Aurora MySQL", 8, 41),
    "postgres": EngineRules("postgres", "PostgreSQL/Aurora PostgreSQL", 8, 128),
    "sqlserver": EngineRules("sqlserver", "SQL Server", 8, 128),
    "oracle": EngineRules("oracle", "Oracle", 8, 30, (*RDS_FORBIDDEN, "&", "'")),
}

# engine names (RDS `engine` values, module folder names) -> family; first match wins, so longer names first
_FAMILIES = (
    ("aurora-postgresql", "postgres"),
    ("aurora-mysql", "mysql"),
    ("postgres", "postgres"),
    ("sqlserver", "sqlserver"),
    ("sql-server", "sqlserver"),
    ("mssql", "sqlserver"),
    ("oracle", "oracle"),
    ("mariadb", "mysql"),
    ("mysql", "mysql"),
    ("aurora", "mysql"),  # the `aurora` engine / module is Aurora MySQL unless its engine says otherwise
    ("rds", "mysql"),
)


def family_of(*names: str) -> str | None:
    """The rule family of the first name that names an engine (engine input first, then module/folder)."""
    for name in names:
        lowered = name.lower()
        for needle, family in _FAMILIES:
            if needle in lowered:
                return family
    return None


def broken_rule(password: str, rules: EngineRules) -> str | None:
    """The first rule `password` breaks, in words, or None when it is acceptable."""
    if len(password) < rules.min_length:
        return (
            f"{rules.label} master passwords take at least {rules.min_length} characters, not {len(password)}"
        )
    if len(password) > rules.max_length:
        return (
            f"{rules.label} master passwords take at most {rules.max_length} characters, not {len(password)}"
        )
    for char in rules.forbidden:
        if char in password:
            shown = "space" if char == " " else repr(char)
            return f"{rules.label} master passwords may not contain {shown}"
    if not password.isprintable() or not password.isascii():
        return f"{rules.label} master passwords take printable ASCII characters only"
    return None


def default_length(rules: EngineRules) -> int:
    return min(DEFAULT_LENGTH, rules.max_length)


def generate(rules: EngineRules, length: int | None = None) -> str:
    """A random password from `secrets` within `rules`, every character class present, a letter first."""
    length = default_length(rules) if length is None else length
    if not rules.min_length <= length <= rules.max_length:
        raise ValueError(f"{rules.label} passwords are {rules.min_length}–{rules.max_length} characters")
    alphabet = "".join(c for c in ALPHABET if c not in rules.forbidden)
    classes = (string.ascii_lowercase, string.ascii_uppercase, string.digits, PUNCTUATION)
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if password[0].isalpha() and all(any(c in cls for c in password) for cls in classes):
            return password


def strictest(families: list[str]) -> EngineRules:
    """One password shared by several engines must meet all their rules: the narrowest range, every ban."""
    chosen = [RULES[f] for f in families] or [RULES["mysql"]]
    forbidden = tuple(dict.fromkeys(c for r in chosen for c in r.forbidden))
    return EngineRules(
        "+".join(sorted({r.family for r in chosen})),
        " and ".join(dict.fromkeys(r.label for r in chosen)),
        max(r.min_length for r in chosen),
        min(r.max_length for r in chosen),
        forbidden,
    )
