"""The bundle's components as a graph and its guiding questions as an answer space (pure)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from apps.bundles import conditions
from apps.bundles.constants import MAX_ANSWER_COMBINATIONS, QuestionKind


def find_cycle(keys: Sequence[str], edges: Iterable[tuple[str, str]]) -> list[str] | None:
    """One cycle as ``[a, b, …, a]`` or ``None`` when the graph is acyclic."""
    successors: dict[str, list[str]] = {key: [] for key in keys}
    for upstream, downstream in edges:
        successors.setdefault(upstream, []).append(downstream)
        successors.setdefault(downstream, [])
    colour: dict[str, int] = dict.fromkeys(successors, 0)  # 0 new, 1 on stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for nxt in successors[node]:
            if colour[nxt] == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if colour[nxt] == 0:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        colour[node] = 2
        return None

    for key in successors:
        if colour[key] == 0:
            found = visit(key)
            if found:
                return found
    return None


def topological_order(keys: Sequence[str], edges: Iterable[tuple[str, str]]) -> list[str]:
    """``keys`` upstream first, stable in the given order among independent components."""
    edges = list(edges)
    indegree = dict.fromkeys(keys, 0)
    for _upstream, downstream in edges:
        indegree[downstream] += 1
    order: list[str] = []
    ready = [key for key in keys if indegree[key] == 0]
    while ready:
        key = ready.pop(0)
        order.append(key)
        for upstream, downstream in edges:
            if upstream == key:
                indegree[downstream] -= 1
                if indegree[downstream] == 0:
                    ready.append(downstream)
        ready.sort(key=list(keys).index)
    if len(order) != len(keys):
        raise ValueError("cycle")
    return order


def upstream_closure(key: str, edges: Iterable[tuple[str, str]]) -> set[str]:
    """Every component ``key`` transitively depends on."""
    predecessors: dict[str, set[str]] = {}
    for upstream, downstream in edges:
        predecessors.setdefault(downstream, set()).add(upstream)
    seen: set[str] = set()
    todo = list(predecessors.get(key, ()))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(predecessors.get(node, ()))
    return seen


# --- the answer space ---------------------------------------------------------------------


def _number_domain(literal_values: Iterable[Any]) -> list[Any]:
    numbers = sorted(
        {
            Decimal(str(v))
            for v in literal_values
            if isinstance(v, int | Decimal) and not isinstance(v, bool)
        }
    )
    domain: set[Decimal] = {Decimal(0)}
    for n in numbers:
        domain.update({n - 1, n, n + 1})
    return sorted(domain)


def answer_domains(
    questions: Sequence[Any], parsed: Sequence[conditions.Node | None]
) -> dict[str, list[Any]]:
    """For each question, the answers that can make a difference to the given conditions."""
    literal_values = [v for node in parsed for v in conditions.literals(node)]
    domains: dict[str, list[Any]] = {}
    for q in questions:
        if q.kind == QuestionKind.YES_NO:
            domains[q.key] = [True, False]
        elif q.kind == QuestionKind.CHOICE:
            domains[q.key] = [c.get("value") for c in q.choices or []]
        else:
            domains[q.key] = _number_domain(literal_values)
    return domains


def answer_space(
    questions: Sequence[Any], parsed: Sequence[conditions.Node | None]
) -> Iterator[dict[str, Any]] | None:
    """Every combination of answers as the applicant could give them (hidden questions
    unanswered), or ``None`` when there are more than ``MAX_ANSWER_COMBINATIONS``."""
    domains = answer_domains(questions, parsed)
    size = 1
    for values in domains.values():
        size *= max(1, len(values))
    if size > MAX_ANSWER_COMBINATIONS:
        return None
    keys = list(domains)

    def combos() -> Iterator[dict[str, Any]]:
        seen: set[tuple] = set()
        for values in itertools.product(*(domains[k] or [None] for k in keys)):
            answers = visible_answers(questions, dict(zip(keys, values, strict=True)))
            marker = tuple(sorted((k, str(v)) for k, v in answers.items()))
            if marker not in seen:
                seen.add(marker)
                yield answers

    return combos()


def visible_answers(questions: Sequence[Any], answers: Mapping[str, Any]) -> dict[str, Any]:
    """``answers`` with the answers to questions not asked (their condition false) removed.
    Questions are asked in order; a condition sees only the answers before it."""
    kept: dict[str, Any] = {}
    for q in questions:
        if conditions.holds(q.condition, kept) and answers.get(q.key) is not None:
            kept[q.key] = answers[q.key]
    return kept
