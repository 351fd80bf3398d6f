"""Dependency waves: what terragrunt would run in parallel, per account, and reversed for destroy."""

from __future__ import annotations

from refarch_tui.live.model import CycleError, LiveTree


def _edges(tree: LiveTree, account: str | None) -> dict[str, set[str]]:
    """unit -> the units it depends on, restricted to the selected units (other accounts count as done)."""
    selected = {p for p, u in tree.units.items() if account is None or u.account == account}
    return {p: {d for d in tree.units[p].dependencies if d in selected} for p in selected}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A dependency cycle as a path that ends where it starts (a -> b -> a), or None."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for start in sorted(edges):
        if state.get(start):
            continue
        stack: list[tuple[str, list[str]]] = [(start, sorted(edges[start]))]
        path = [start]
        state[start] = 1
        while stack:
            node, todo = stack[-1]
            if not todo:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            nxt = todo.pop(0)
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, sorted(edges.get(nxt, ()))))
    return None


def waves(tree: LiveTree, *, account: str | None = None, destroy: bool = False) -> list[list[str]]:
    """Topological waves of unit paths (each wave sorted). Raises CycleError naming the whole cycle."""
    edges = _edges(tree, account)
    if destroy:
        reverse: dict[str, set[str]] = {p: set() for p in edges}
        for unit, deps in edges.items():
            for dep in deps:
                reverse[dep].add(unit)
        edges = reverse
    remaining = {p: set(deps) for p, deps in edges.items()}
    result: list[list[str]] = []
    while remaining:
        ready = sorted(p for p, deps in remaining.items() if not deps)
        if not ready:
            cycle = find_cycle(remaining)
            if destroy and cycle:
                cycle.reverse()
            raise CycleError(cycle or sorted(remaining))
        result.append(ready)
        for p in ready:
            del remaining[p]
        done = set(ready)
        for deps in remaining.values():
            deps -= done
    return result


def account_order(tree: LiveTree) -> list[str | None]:
    """Accounts in the order to show them: the root's own units (None) first, then in deployment order."""
    from refarch_tui import checklist

    accounts: list[str | None] = []
    if any(u.account is None for u in tree.units.values()):
        accounts.append(None)
    accounts.extend(checklist.order_accounts(tree.accounts))
    return accounts
