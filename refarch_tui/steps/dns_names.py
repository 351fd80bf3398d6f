"""Domain names as Route 53 and ACM accept them, checked before any AWS call so a typo never half-creates
anything (ACM's own pattern: optional leading `*.`, labels of letters, digits and inner hyphens)."""

from __future__ import annotations

import re

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_LENGTH = 253


class InvalidDomain(ValueError):
    """`str(err)` says what is wrong with the name and what to write instead."""


def normalise(name: str, *, wildcard: bool = False, what: str = "domain name") -> str:
    """`name` lower-cased without a trailing dot; InvalidDomain with the reason when AWS would refuse it."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidDomain(f"the {what} is empty")
    text = name.strip()
    if text != name:
        raise InvalidDomain(f"the {what} {name!r} has spaces around it")
    if text.endswith("."):
        text = text[:-1]
    if not text.isascii():
        try:
            ascii_form = text.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidDomain(f"the {what} {name!r} is not a valid internationalised name") from None
        raise InvalidDomain(
            f"the {what} {name!r} has non-ASCII letters; write its punycode form {ascii_form}"
        )
    text = text.lower()
    labels = text.split(".")
    if labels[0] == "*":
        if not wildcard:
            raise InvalidDomain(f"the {what} {name!r} is a wildcard; give the domain itself")
        labels = labels[1:]
    if len(text) > MAX_LENGTH:
        raise InvalidDomain(f"the {what} {name!r} is longer than {MAX_LENGTH} characters")
    if len(labels) < 2:
        raise InvalidDomain(f"the {what} {name!r} needs at least two labels (like example.com)")
    for label in labels:
        if label == "*":
            raise InvalidDomain(
                f"the {what} {name!r} has `*` away from the first label; only `*.` may start it"
            )
        if not label:
            raise InvalidDomain(
                f"the {what} {name!r} has an empty label (two dots in a row, or a leading dot)"
            )
        if len(label) > 63:
            raise InvalidDomain(f"the {what} {name!r} has a label longer than 63 characters: {label[:20]}…")
        if not _LABEL.match(label):
            bad = sorted({c for c in label if not (c.isalnum() or c == "-")})
            why = f"characters {' '.join(bad)!s} are not allowed" if bad else "a label starts or ends with -"
            raise InvalidDomain(
                f"the {what} {name!r} is not a valid domain name: {why} (letters, digits and inner "
                "hyphens only)"
            )
    if labels[-1].isdigit():
        raise InvalidDomain(f"the {what} {name!r} ends in a number; a domain name's last label has letters")
    return text


def apex_of(name: str) -> str:
    """`*.example.com` -> `example.com`; other names unchanged."""
    return name[2:] if name.startswith("*.") else name


def within(name: str, zone: str) -> bool:
    """Whether `name` (maybe a wildcard) lies in the DNS zone `zone`."""
    bare = apex_of(name)
    return bare == zone or bare.endswith("." + zone)
