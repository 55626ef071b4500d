"""情形引导: a tiny, safe condition language over the answers to a bundle's guiding questions.

Evaluated on the server by a hand-written parser and tree walker — never ``eval``. Grammar::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := value (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") value)?
    value   := NAME | STRING | NUMBER | "true" | "false" | "(" expr ")" | "[" literals "]"

``NAME`` is a question key (``[a-z][a-z0-9_]*``); strings are single- or double-quoted;
numbers are integers or decimals. An unanswered question is ``None``: it equals nothing but
``None``, orders against nothing and is in no list, so a condition over it is false rather than
an error. Comparing values of different kinds (a string with a number) is false, not an error.
A bare value is true when it is ``True`` (a yes/no question answered yes) or a non-empty
string, a non-zero number or a non-empty list.

Examples: ``needs_ssc``, ``children > 1 and not twins``, ``district in ["xh", "dh"]``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

MAX_LENGTH = 500
MAX_DEPTH = 30
COMPARISONS = ("==", "!=", "<=", ">=", "<", ">", "in", "not in")
KEYWORDS = {"and", "or", "not", "in", "true", "false"}
NAME_RE = re.compile(r"[a-z][a-z0-9_]*")


class ConditionError(ValueError):
    """A condition that cannot be parsed; the message is Chinese, for the author."""


# --- the tree -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    key: str


@dataclass(frozen=True)
class Literal:
    value: Any  # str | int | Decimal | bool | tuple of those


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node


Node = Name | Literal | Not | BoolOp | Compare


# --- tokens -------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?:\.\d+)?)
      | (?P<string>"[^"\\]*"|'[^'\\]*')
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str  # number | string | name | op | end
    text: str
    position: int


def _tokenise(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(source):
        if source[position:].strip() == "":
            break
        match = _TOKEN_RE.match(source, position)
        if match is None or match.end() == position:
            raise ConditionError(_("条件表达式第 %(pos)s 个字符无法识别") % {"pos": position + 1})
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
    tokens.append(_Token("end", "", len(source)))
    return tokens


# --- parser -------------------------------------------------------------------------------


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokenise(source)
        self.index = 0
        self.depth = 0

    def peek(self, offset: int = 0) -> _Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.peek()
        self.index += 1
        return token

    def is_word(self, word: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token.kind == "name" and token.text == word

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text or token.kind not in ("op", "name"):
            raise ConditionError(
                _("条件表达式第 %(pos)s 个字符处应为“%(text)s”")
                % {"pos": token.position + 1, "text": text}
            )

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionError(_("条件表达式嵌套过深"))

    def parse(self) -> Node:
        node = self.parse_or()
        token = self.peek()
        if token.kind != "end":
            raise ConditionError(
                _("条件表达式第 %(pos)s 个字符处有多余内容") % {"pos": token.position + 1}
            )
        return node

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while self.is_word("or"):
            self.take()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else BoolOp("or", tuple(operands))

    def parse_and(self) -> Node:
        operands = [self.parse_not()]
        while self.is_word("and"):
            self.take()
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else BoolOp("and", tuple(operands))

    def parse_not(self) -> Node:
        if self.is_word("not"):
            self.take()
            self.nested()
            node = Not(self.parse_not())
            self.depth -= 1
            return node
        return self.parse_compare()

    def parse_compare(self) -> Node:
        left = self.parse_value()
        token = self.peek()
        if token.kind == "op" and token.text in COMPARISONS:
            self.take()
            return Compare(token.text, left, self.parse_value())
        if self.is_word("in"):
            self.take()
            return Compare("in", left, self.parse_value())
        if self.is_word("not") and self.is_word("in", 1):
            self.take()
            self.take()
            return Compare("not in", left, self.parse_value())
        return left

    def parse_value(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Literal(_number(token.text))
        if token.kind == "string":
            return Literal(token.text[1:-1])
        if token.kind == "name":
            if token.text in ("true", "false"):
                return Literal(token.text == "true")
            if token.text in KEYWORDS or not NAME_RE.fullmatch(token.text):
                raise ConditionError(
                    _("条件表达式第 %(pos)s 个字符处的“%(name)s”不能用作问题标识")
                    % {"pos": token.position + 1, "name": token.text}
                )
            return Name(token.text)
        if token.kind == "op" and token.text == "(":
            self.nested()
            node = self.parse_or()
            self.depth -= 1
            self.expect(")")
            return node
        if token.kind == "op" and token.text == "[":
            return Literal(self.parse_list())
        if token.kind == "end":
            raise ConditionError(_("条件表达式不完整"))
        raise ConditionError(
            _("条件表达式第 %(pos)s 个字符处的“%(text)s”位置不对")
            % {"pos": token.position + 1, "text": token.text}
        )

    def parse_list(self) -> tuple[Any, ...]:
        items: list[Any] = []
        if self.peek().text == "]" and self.peek().kind == "op":
            self.take()
            return ()
        while True:
            token = self.take()
            if token.kind == "number":
                items.append(_number(token.text))
            elif token.kind == "string":
                items.append(token.text[1:-1])
            elif token.kind == "name" and token.text in ("true", "false"):
                items.append(token.text == "true")
            else:
                raise ConditionError(
                    _("条件表达式第 %(pos)s 个字符处：列表中只能写字符串、数字或 true/false")
                    % {"pos": token.position + 1}
                )
            separator = self.take()
            if separator.kind == "op" and separator.text == "]":
                return tuple(items)
            if not (separator.kind == "op" and separator.text == ","):
                raise ConditionError(
                    _("条件表达式第 %(pos)s 个字符处应为“,”或“]”") % {"pos": separator.position + 1}
                )


def _number(text: str) -> int | Decimal:
    if "." in text:
        try:
            return Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only decimals
            raise ConditionError(_("数字格式不正确")) from exc
    return int(text)


def parse(source: str) -> Node | None:
    """The tree of ``source``, or ``None`` for an empty condition (always applies)."""
    source = (source or "").strip()
    if not source:
        return None
    if len(source) > MAX_LENGTH:
        raise ConditionError(_("条件表达式过长（不超过 %(n)s 个字符）") % {"n": MAX_LENGTH})
    return _Parser(source).parse()


def names(node: Node | None) -> set[str]:
    """The question keys ``node`` refers to."""
    if node is None or isinstance(node, Literal):
        return set()
    if isinstance(node, Name):
        return {node.key}
    if isinstance(node, Not):
        return names(node.operand)
    if isinstance(node, BoolOp):
        return set().union(*(names(o) for o in node.operands))
    return names(node.left) | names(node.right)


def literals(node: Node | None) -> list[Any]:
    """Every literal value in ``node`` (to enumerate the values a number question matters at)."""
    if node is None or isinstance(node, Name):
        return []
    if isinstance(node, Literal):
        return list(node.value) if isinstance(node.value, tuple) else [node.value]
    if isinstance(node, Not):
        return literals(node.operand)
    if isinstance(node, BoolOp):
        return [v for o in node.operands for v in literals(o)]
    return literals(node.left) + literals(node.right)


# --- evaluation ---------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, tuple | list):
        return "list"
    return "other"


def _normal(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, list):
        return tuple(_normal(v) for v in value)
    return value


def _equal(left: Any, right: Any) -> bool:
    if _kind(left) != _kind(right):
        return False
    return bool(left == right)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    if op in ("in", "not in"):
        if _kind(right) != "list" or _kind(left) == "none":
            return False
        found = any(_equal(left, item) for item in right)
        return found if op == "in" else not found
    kind = _kind(left)
    if kind != _kind(right) or kind not in ("number", "string"):
        return False
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


def _value(node: Node, answers: Mapping[str, Any]) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Name):
        return _normal(answers.get(node.key))
    return _truth(node, answers)


def _truthy(value: Any) -> bool:
    if _kind(value) in ("bool", "number", "string", "list"):
        return bool(value)
    return False


def _truth(node: Node, answers: Mapping[str, Any]) -> bool:
    if isinstance(node, BoolOp):
        if node.op == "and":
            return all(_truth(o, answers) for o in node.operands)
        return any(_truth(o, answers) for o in node.operands)
    if isinstance(node, Not):
        return not _truth(node.operand, answers)
    if isinstance(node, Compare):
        return _compare(node.op, _value(node.left, answers), _value(node.right, answers))
    return _truthy(_value(node, answers))


def evaluate(node: Node | None, answers: Mapping[str, Any]) -> bool:
    """Whether ``node`` holds for ``answers`` (``None``, the empty condition, always does)."""
    if node is None:
        return True
    return _truth(node, answers)


def holds(source: str, answers: Mapping[str, Any]) -> bool:
    """Parse and evaluate ``source`` (a stored condition that passed publish validation)."""
    return evaluate(parse(source), answers)


def render(node: Node | None) -> str:
    """Canonical source text of ``node`` (parses back to the same tree)."""
    if node is None:
        return ""
    if isinstance(node, Name):
        return node.key
    if isinstance(node, Literal):
        return _render_literal(node.value)
    if isinstance(node, Not):
        return f"not ({render(node.operand)})"
    if isinstance(node, BoolOp):
        return f" {node.op} ".join(f"({render(o)})" for o in node.operands)
    return f"({render(node.left)}) {node.op} ({render(node.right)})"


def _render_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple):
        return "[" + ", ".join(_render_literal(v) for v in value) + "]"
    return str(value)
