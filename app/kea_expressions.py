"""Kea 2.2's client-class expression language (`client-classes[].test`), read as kea-dhcp4/6
read it when they check a configuration: the same tokens, the same grammar, and the same
refusals with the same texts and places (`1.8-21: option 'foo' is not defined`).

Kea's parser is a bison LALR(1) parser with verbose errors. Its refusal of a syntax error
names the token it met and, when there are at most four, the tokens it could have taken
instead, in bison's token order; which tokens those are depends on the parser state in which
the error shows, and bison reduces by a state's most common rule without looking at the token
(a "default reduction"). So the grammar below is the language's grammar as Kea 2.2 states it,
and `_Tables` builds LALR(1) tables from it the way bison does (precedence, shift over reduce,
default reductions); `check_expression` runs them, calling the lexer only when bison would and
checking values (option codes, names, nest levels, integers, addresses, class names) at the
reductions where Kea does, so the first error found is the one Kea reports.

Nothing here evaluates an expression: leasesync classifies no packets.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# (symbol, how bison prints it), in bison's symbol order: the order of the "expecting" list
_TERMINALS: list[tuple[str, str]] = [
    ("END", "end of file"), ("error", "error"), ("UNDEF", "invalid token"),
    ("LPAREN", "("), ("RPAREN", ")"), ("NOT", "not"), ("AND", "and"), ("OR", "or"), ("EQUAL", "=="),
    ("OPTION", "option"), ("RELAY4", "relay4"), ("RELAY6", "relay6"), ("MEMBER", "member"),
    ("PEERADDR", "peeraddr"), ("LINKADDR", "linkaddr"), ("LBRACKET", "["), ("RBRACKET", "]"),
    ("DOT", "."), ("TEXT", "text"), ("HEX", "hex"), ("EXISTS", "exists"), ("PKT", "pkt"),
    ("IFACE", "iface"), ("SRC", "src"), ("DST", "dst"), ("LEN", "len"), ("PKT4", "pkt4"),
    ("CHADDR", "mac"), ("HLEN", "hlen"), ("HTYPE", "htype"), ("CIADDR", "ciaddr"),
    ("GIADDR", "giaddr"), ("YIADDR", "yiaddr"), ("SIADDR", "siaddr"), ("SUBSTRING", "substring"),
    ("SPLIT", "split"), ("ALL", "all"), ("COMA", '","'), ("CONCAT", "concat"), ("PLUS", "+"),
    ("IFELSE", "ifelse"), ("TOHEXSTRING", "hexstring"), ("ADDRTOTEXT", "addrtotext"),
    ("INT8TOTEXT", "int8totext"), ("INT16TOTEXT", "int16totext"), ("INT32TOTEXT", "int32totext"),
    ("UINT8TOTEXT", "uint8totext"), ("UINT16TOTEXT", "uint16totext"),
    ("UINT32TOTEXT", "uint32totext"), ("PKT6", "pkt6"), ("MSGTYPE", "msgtype"),
    ("TRANSID", "transid"), ("VENDOR_CLASS", "vendor-class"), ("VENDOR", "vendor"), ("ANY", "*"),
    ("DATA", "data"), ("ENTERPRISE", "enterprise"), ("TOPLEVEL_BOOL", "top-level bool"),
    ("TOPLEVEL_STRING", "top-level string"), ("STRING", "constant string"), ("INTEGER", "integer"),
    ("HEXSTRING", "constant hexstring"), ("OPTION_NAME", "option name"), ("IP_ADDRESS", "ip address"),
]
_TERMINAL_INDEX = {name: index for index, (name, _) in enumerate(_TERMINALS)}
_SHOWN = dict(_TERMINALS)

# precedence, lowest first; all left-associative but NOT, which has no associativity
_PRECEDENCE = {"PLUS": (1, "left"), "OR": (2, "left"), "AND": (3, "left"), "NOT": (4, None)}


def _alternatives(lhs: str, text: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(lhs, tuple(alternative.split())) for alternative in text.split("|")]


_OPT = "OPTION LBRACKET option_code RBRACKET DOT"
_SUB = "OPTION LBRACKET sub_option_code RBRACKET DOT"
_R4 = "RELAY4 LBRACKET sub_option_code RBRACKET DOT"
_R6 = "RELAY6 LBRACKET nest_level RBRACKET DOT"
_VC = "VENDOR_CLASS LBRACKET enterprise_id RBRACKET DOT"
_VE = "VENDOR LBRACKET enterprise_id RBRACKET DOT"


def _unary(name: str) -> str:
    return f"{name} LPAREN string_expr RPAREN"


# Kea 2.2's rules, in its order (a reduce/reduce conflict goes to the earlier rule, and a tie
# for a state's default reduction too)
_RULES: list[tuple[str, tuple[str, ...]]] = [
    ("$accept", ("start", "END")),
    *_alternatives("start", "TOPLEVEL_BOOL expression | TOPLEVEL_STRING string_expr"),
    *_alternatives("expression", "bool_expr"),
    *_alternatives("bool_expr", " | ".join([
        "LPAREN bool_expr RPAREN", "NOT bool_expr", "bool_expr AND bool_expr", "bool_expr OR bool_expr",
        "string_expr EQUAL string_expr", f"{_OPT} EXISTS", f"{_OPT} {_SUB} EXISTS", f"{_R4} EXISTS",
        f"{_R6} {_SUB} EXISTS", f"{_VC} EXISTS", f"{_VE} EXISTS", f"{_VE} {_SUB} EXISTS",
        "MEMBER LPAREN STRING RPAREN"])),
    *_alternatives("string_expr", " | ".join([
        "STRING", "HEXSTRING", "IP_ADDRESS", f"{_OPT} option_repr_type",
        f"{_OPT} {_SUB} option_repr_type", f"{_R4} option_repr_type", f"{_R6} {_SUB} option_repr_type",
        "PKT DOT pkt_metadata", "PKT4 DOT pkt4_field", "PKT6 DOT pkt6_field", f"{_R6} relay6_field",
        "SUBSTRING LPAREN string_expr COMA start_expr COMA length_expr RPAREN",
        "SPLIT LPAREN string_expr COMA string_expr COMA int_expr RPAREN",
        "CONCAT LPAREN string_expr COMA string_expr RPAREN", "string_expr PLUS string_expr",
        "IFELSE LPAREN bool_expr COMA string_expr COMA string_expr RPAREN",
        "TOHEXSTRING LPAREN string_expr COMA string_expr RPAREN",
        *(_unary(name) for name in ("ADDRTOTEXT", "INT8TOTEXT", "INT16TOTEXT", "INT32TOTEXT",
                                    "UINT8TOTEXT", "UINT16TOTEXT", "UINT32TOTEXT")),
        "VENDOR DOT ENTERPRISE", "VENDOR_CLASS DOT ENTERPRISE", f"{_VE} {_SUB} option_repr_type",
        f"{_VC} DATA", f"{_VC} DATA LBRACKET INTEGER RBRACKET", "integer_expr",
        "LPAREN string_expr RPAREN"])),
    *_alternatives("integer_expr", "INTEGER"),
    *_alternatives("option_code", "INTEGER | OPTION_NAME"),
    *_alternatives("sub_option_code", "INTEGER"),
    *_alternatives("option_repr_type", "TEXT | HEX"),
    *_alternatives("nest_level", "INTEGER"),
    *_alternatives("pkt_metadata", "IFACE | SRC | DST | LEN"),
    *_alternatives("enterprise_id", "INTEGER | ANY"),
    *_alternatives("pkt4_field", "CHADDR | HLEN | HTYPE | CIADDR | GIADDR | YIADDR | SIADDR | MSGTYPE | TRANSID"),
    *_alternatives("pkt6_field", "MSGTYPE | TRANSID"),
    *_alternatives("relay6_field", "PEERADDR | LINKADDR"),
    *_alternatives("start_expr", "INTEGER"),
    *_alternatives("length_expr", "INTEGER | ALL"),
    *_alternatives("int_expr", "INTEGER"),
]

class _Tables:
    """LALR(1) action and goto tables of _RULES, resolved and compressed as bison does."""

    def __init__(self) -> None:
        self.nonterminals = {lhs for lhs, _ in _RULES}
        self.by_lhs: dict[str, list[int]] = {}
        for number, (lhs, _) in enumerate(_RULES):
            self.by_lhs.setdefault(lhs, []).append(number)
        self.first = self._first_sets()
        self.states: list[frozenset[tuple[int, int]]] = []  # LR(0) kernels: (rule, dot)
        self.goto: list[dict[str, int]] = []
        self._lr0()
        lookaheads = self._lalr_lookaheads()
        self.actions: list[dict[str, tuple[str, int]]] = []  # token -> ("shift", state) | ("reduce", rule)
        self.default: list[int | None] = []  # the state's default reduction
        for state, kernel in enumerate(self.states):
            self._state_actions(state, kernel, lookaheads)

    # -- grammar analysis
    def _first_sets(self) -> dict[str, set[str]]:
        # no rule derives the empty string, so FIRST(X Y...) is FIRST(X)
        first: dict[str, set[str]] = {name: set() for name in self.nonterminals}
        changed = True
        while changed:
            changed = False
            for lhs, rhs in _RULES:
                head = rhs[0]
                adding = first[head] if head in self.nonterminals else {head}
                if not adding <= first[lhs]:
                    first[lhs] |= adding
                    changed = True
        return first

    def _closure(self, items: set[tuple[int, int]]) -> set[tuple[int, int]]:
        closed = set(items)
        work = list(items)
        while work:
            rule, dot = work.pop()
            rhs = _RULES[rule][1]
            if dot < len(rhs) and rhs[dot] in self.nonterminals:
                for number in self.by_lhs[rhs[dot]]:
                    if (number, 0) not in closed:
                        closed.add((number, 0))
                        work.append((number, 0))
        return closed

    def _lr0(self) -> None:
        index: dict[frozenset[tuple[int, int]], int] = {}
        start = frozenset({(0, 0)})
        index[start] = 0
        self.states.append(start)
        position = 0
        while position < len(self.states):
            moves: dict[str, set[tuple[int, int]]] = {}
            for rule, dot in self._closure(set(self.states[position])):
                rhs = _RULES[rule][1]
                if dot < len(rhs):
                    moves.setdefault(rhs[dot], set()).add((rule, dot + 1))
            edges: dict[str, int] = {}
            for symbol, kernel_items in moves.items():
                kernel = frozenset(kernel_items)
                if kernel not in index:
                    index[kernel] = len(self.states)
                    self.states.append(kernel)
                edges[symbol] = index[kernel]
            self.goto.append(edges)
            position += 1

    def _lr1_closure(self, item: tuple[int, int], lookahead: str) -> set[tuple[int, int, str]]:
        closed = {(item[0], item[1], lookahead)}
        work = list(closed)
        while work:
            rule, dot, ahead = work.pop()
            rhs = _RULES[rule][1]
            if dot < len(rhs) and rhs[dot] in self.nonterminals:
                if dot + 1 < len(rhs):
                    after = rhs[dot + 1]
                    follows = self.first[after] if after in self.nonterminals else {after}
                else:
                    follows = {ahead}
                for number in self.by_lhs[rhs[dot]]:
                    for token in follows:
                        if (number, 0, token) not in closed:
                            closed.add((number, 0, token))
                            work.append((number, 0, token))
        return closed

    def _lalr_lookaheads(self) -> dict[tuple[int, int, int], set[str]]:
        """Lookaheads of every kernel item (state, rule, dot): spontaneous ones and propagation
        links from an LR(1) closure of each kernel item with a placeholder lookahead."""
        placeholder = "#"
        lookaheads: dict[tuple[int, int, int], set[str]] = {
            (state, rule, dot): set() for state, kernel in enumerate(self.states) for rule, dot in kernel}
        lookaheads[(0, 0, 0)].add("END")  # never used: $accept shifts END
        links: dict[tuple[int, int, int], list[tuple[int, int, int]]] = {}
        for state, kernel in enumerate(self.states):
            for rule, dot in kernel:
                for r, d, ahead in self._lr1_closure((rule, dot), placeholder):
                    rhs = _RULES[r][1]
                    if d == len(rhs):
                        continue
                    target = (self.goto[state][rhs[d]], r, d + 1)
                    if ahead == placeholder:
                        links.setdefault((state, rule, dot), []).append(target)
                    else:
                        lookaheads[target].add(ahead)
        changed = True
        while changed:
            changed = False
            for source, targets in links.items():
                for target in targets:
                    if not lookaheads[source] <= lookaheads[target]:
                        lookaheads[target] |= lookaheads[source]
                        changed = True
        return lookaheads

    def _state_actions(self, state: int, kernel: frozenset[tuple[int, int]],
                       lookaheads: dict[tuple[int, int, int], set[str]]) -> None:
        actions: dict[str, tuple[str, int]] = {}
        for symbol, target in self.goto[state].items():
            if symbol not in self.nonterminals:
                actions[symbol] = ("shift", target)
        for rule, dot in sorted(kernel):  # reductions in rule order: the earlier wins a tie
            if dot != len(_RULES[rule][1]):
                continue
            for token in lookaheads[(state, rule, dot)]:
                present = actions.get(token)
                if present is None:
                    actions[token] = ("reduce", rule)
                elif present[0] == "shift":
                    resolved = self._shift_or_reduce(token, rule)
                    if resolved == "reduce":
                        actions[token] = ("reduce", rule)
                    elif resolved == "error":
                        del actions[token]
                # reduce/reduce: the earlier rule, already there
        reductions = [rule for rule, dot in sorted(kernel) if dot == len(_RULES[rule][1])]
        default: int | None = None
        if reductions:
            counts = {rule: sum(1 for kind, n in actions.values() if kind == "reduce" and n == rule)
                      for rule in reductions}
            best = max(counts.values())
            if best > 0:
                default = next(rule for rule in reductions if counts[rule] == best)
                actions = {token: action for token, action in actions.items() if action != ("reduce", default)}
        self.actions.append(actions)
        self.default.append(default)

    @staticmethod
    def _shift_or_reduce(token: str, rule: int) -> str:
        """bison: by precedence when the token and the rule's last terminal both have one, else shift."""
        last = next((s for s in reversed(_RULES[rule][1]) if s in _TERMINAL_INDEX), None)
        rule_prec = _PRECEDENCE.get(last or "")
        token_prec = _PRECEDENCE.get(token)
        if rule_prec is None or token_prec is None:
            return "shift"
        if token_prec[0] > rule_prec[0]:
            return "shift"
        if token_prec[0] < rule_prec[0]:
            return "reduce"
        associativity = token_prec[1]
        return "reduce" if associativity == "left" else "shift" if associativity == "right" else "error"


_TABLES: _Tables | None = None


def _tables() -> _Tables:
    global _TABLES
    if _TABLES is None:
        _TABLES = _Tables()
    return _TABLES


# ---------------------------------------------------------------------------------------------
# locations, as bison's location class keeps and prints them


@dataclass
class _Location:
    begin_line: int = 1
    begin_column: int = 1
    end_line: int = 1
    end_column: int = 1

    def step(self) -> None:
        self.begin_line, self.begin_column = self.end_line, self.end_column

    def columns(self, count: int) -> None:
        self.end_column = max(1, self.end_column + count)

    def lines(self, count: int = 1) -> None:
        if count:
            self.end_column = 1
            self.end_line += count

    def copy(self) -> _Location:
        return _Location(self.begin_line, self.begin_column, self.end_line, self.end_column)

    def text(self) -> str:
        out = f"{self.begin_line}.{self.begin_column}"
        end_column = self.end_column - 1 if self.end_column > 0 else 0
        if self.begin_line < self.end_line:
            out += f"-{self.end_line}.{end_column}"
        elif self.begin_column < end_column:
            out += f"-{end_column}"
        return out


def _span(first: _Location, last: _Location) -> _Location:
    return _Location(first.begin_line, first.begin_column, last.end_line, last.end_column)


class ExpressionError(Exception):
    """Kea's refusal of an expression, as its text reads: the place, then why
    (`<string>:1.8-21: option 'foo' is not defined`)."""


def _refuse(location: _Location, text: str) -> ExpressionError:
    return ExpressionError(f"<string>:{location.text()}: {text}")


# ---------------------------------------------------------------------------------------------
# the lexer: flex's longest match, the earlier rule winning a tie

_KEYWORDS = {display: name for name, display in _TERMINALS
             if re.fullmatch(r"[a-z][-a-z0-9]*", display) and name not in ("END", "UNDEF", "error")}
_PUNCTUATION = {"==": "EQUAL", ".": "DOT", "(": "LPAREN", ")": "RPAREN", "[": "LBRACKET",
                "]": "RBRACKET", ",": "COMA", "*": "ANY", "+": "PLUS"}
# (rule order, pattern, kind); an option name counts only when a `]` follows it (flex trailing context)
_LEX_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"[ \t]+"), "blank"),
    (re.compile(r"\n+"), "newline"),
    (re.compile(r"'[^'\n]*'"), "STRING"),
    (re.compile(r"0[xX][0-9a-fA-F]+"), "HEXSTRING"),
    (re.compile(r"-?[0-9]+"), "INTEGER"),
    (re.compile(r"[A-Za-z](?:[-_A-Za-z0-9]*[A-Za-z0-9])?[ \t\n]*(?=\])"), "OPTION_NAME"),
    (re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+|[0-9a-fA-F]*:[0-9a-fA-F]*:[0-9a-fA-F:.]*"), "IP_ADDRESS"),
    (re.compile("|".join(re.escape(k) for k in sorted({**_PUNCTUATION, **_KEYWORDS}, key=len, reverse=True))),
     "keyword"),
]


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0
        self.location = _Location()
        self.started = False

    def next(self) -> tuple[str, str, _Location]:
        """The next token: (terminal, its text, its place)."""
        loc = self.location
        loc.step()
        if not self.started:
            self.started = True
            return "TOPLEVEL_BOOL", "", loc.copy()
        text = self.text
        while True:
            if self.position >= len(text):
                return "END", "", loc.copy()
            best: tuple[int, str] | None = None
            for pattern, kind in _LEX_RULES:
                found = pattern.match(text, self.position)
                if found is not None and found.end() > self.position and (best is None or found.end() > best[0]):
                    best = (found.end(), kind)
            if best is None:  # flex's last rule: any other character
                char = text[self.position]
                self.position += 1
                loc.columns(1)
                raise _refuse(loc, f"Invalid character: {char}")
            end, kind = best
            lexeme = text[self.position:end]
            self.position = end
            loc.columns(len(lexeme))
            if kind == "blank":
                loc.step()
                continue
            if kind == "newline":
                loc.lines(len(lexeme))
                loc.step()
                continue
            return self._token(kind, lexeme, loc)

    def _token(self, kind: str, lexeme: str, loc: _Location) -> tuple[str, str, _Location]:
        if kind == "keyword":
            return _PUNCTUATION.get(lexeme) or _KEYWORDS[lexeme], lexeme, loc.copy()
        if kind == "STRING":
            return "STRING", lexeme[1:-1], loc.copy()
        if kind == "INTEGER":
            if not -2**63 <= int(lexeme) < 2**63:
                raise _refuse(loc, f"Failed to convert {lexeme} to an integer.")
        elif kind == "OPTION_NAME":
            name = lexeme
            while len(name) > 1 and name[-1] in " \t\n":
                if name[-1] == "\n":
                    loc.lines()
                    loc.step()
                name = name[:-1]
            return "OPTION_NAME", name, loc.copy()
        elif kind == "IP_ADDRESS" and not _is_address(lexeme):
            raise _refuse(loc, f"Failed to convert {lexeme} to an IP address.")
        return kind, lexeme, loc.copy()


def _is_address(text: str) -> bool:
    for family in (socket.AF_INET6, socket.AF_INET):
        try:
            socket.inet_pton(family, text)
        except OSError:
            continue
        return True
    return False


# ---------------------------------------------------------------------------------------------
# the values Kea checks, at the reductions where it checks them


@dataclass
class _Context:
    family: int
    option_code: Callable[[str], int | None]  # an option's code by name in the dhcp4/dhcp6 space
    class_defined: Callable[[str], bool]


def _int64(text: str) -> int | None:
    """boost::lexical_cast<int64_t>: digits with an optional sign, in range."""
    if not re.fullmatch(r"[-+]?[0-9]+", text):
        return None
    value = int(text)
    return value if -2**63 <= value < 2**63 else None


def _in_range(text: str, loc: _Location, low: int, high: int, *, integer_text: str = "Invalid value in ") -> int:
    value = _int64(text)
    if value is None:
        raise _refuse(loc, f"{integer_text}{text}")
    if not low <= value <= high:
        raise _refuse(loc, f"Invalid value in {text}. Allowed range: {low}..{high}")
    return value


def _option_code(ctx: _Context, text: str, loc: _Location) -> int:
    value = _int64(text)
    if value is None or not -2**31 <= value < 2**31:  # lexical_cast<int>
        raise _refuse(loc, f"Option code has invalid value in {text}")
    high = 65535 if ctx.family == 6 else 255
    if not 0 <= value <= high:
        raise _refuse(loc, f"Option code has invalid value in {text}. Allowed range: 0..{high}")
    return value


def _reduce_checks(ctx: _Context, rule: int, values: list[Any], places: list[_Location]) -> Any:
    lhs, rhs = _RULES[rule]
    first = rhs[0]
    if lhs == "option_code":
        if first == "INTEGER":
            return _option_code(ctx, values[0], places[0])
        code = ctx.option_code(values[0])
        if code is None:
            raise _refuse(places[0], f"option '{values[0]}' is not defined")
        return code
    if lhs == "sub_option_code":
        return _option_code(ctx, values[0], places[0])
    if lhs == "nest_level":
        level = _in_range(values[0], places[0], -128, 127, integer_text="Invalid integer value in ")
        if ctx.family != 6:
            raise _refuse(places[0], "Nest level invalid for DHCPv4 packets")
        if not -32 <= level < 32:
            raise _refuse(places[0], f"Nest level has invalid value in {values[0]}. Allowed range: -32..31")
        return level
    if lhs in ("enterprise_id", "integer_expr") and first == "INTEGER":
        return _in_range(values[0], places[0], 0, 2**32 - 1)
    if lhs == "bool_expr" and first == "MEMBER":
        if not ctx.class_defined(values[2]):
            raise _refuse(places[2], f"Not defined client class '{values[2]}'")
    elif lhs in ("bool_expr", "string_expr"):
        if first == "RELAY4" and ctx.family != 4:
            raise _refuse(places[0], "relay4 can only be used in DHCPv4.")
        if first == "RELAY6" and ctx.family != 6:
            raise _refuse(places[0], "relay6 can only be used in DHCPv6.")
        if first == "PKT4" and ctx.family != 4:
            raise _refuse(places[0], "pkt4 can only be used in DHCPv4.")
        if first == "PKT6" and ctx.family != 6:
            raise _refuse(places[0], "pkt6 can only be used in DHCPv6.")
        if rhs[-2:] == ("INTEGER", "RBRACKET"):  # vendor-class[...].data[N]
            _in_range(values[-2], places[-2], 0, 255, integer_text="Invalid integer value in ")
    return values[0] if values else None


def check_expression(text: str, family: int, option_code: Callable[[str], int | None],
                     class_defined: Callable[[str], bool]) -> None:
    """Read `text` as a boolean expression (a class's `test`) for `family` as Kea 2.2 would;
    raise ExpressionError with Kea's place and text when Kea refuses it. `text` holds Kea's
    bytes, one character per byte (Latin-1): Kea reads and counts columns in bytes, and so do
    names passed to the callbacks. `option_code` maps an option name to its code (None: not
    defined); `class_defined` says whether a class name may be used in `member()`."""
    tables = _tables()
    ctx = _Context(family, option_code, class_defined)
    lexer = _Lexer(text)
    states = [0]
    values: list[Any] = [None]
    places: list[_Location] = [_Location()]
    lookahead: tuple[str, str, _Location] | None = None
    while True:
        state = states[-1]
        actions = tables.actions[state]
        default = tables.default[state]
        if actions or default is None:  # bison reads a token unless the state only reduces
            if lookahead is None:
                lookahead = lexer.next()
            action = actions.get(lookahead[0])
        else:
            action = None
        if action is None:
            if default is None:
                raise _syntax_error(lookahead, actions)
            action = ("reduce", default)
        kind, target = action
        if kind == "shift":
            assert lookahead is not None
            if lookahead[0] == "END":
                return
            states.append(target)
            values.append(lookahead[1])
            places.append(lookahead[2])
            lookahead = None
            continue
        lhs, rhs = _RULES[target]  # never $accept: shifting its END above accepts
        count = len(rhs)
        result = _reduce_checks(ctx, target, values[-count:], places[-count:])
        place = _span(places[-count], places[-1])
        del states[-count:], values[-count:], places[-count:]
        states.append(tables.goto[states[-1]][lhs])
        values.append(result)
        places.append(place)


def _syntax_error(lookahead: tuple[str, str, _Location] | None, actions: dict[str, tuple[str, int]]) -> ExpressionError:
    assert lookahead is not None
    expected = sorted(actions, key=_TERMINAL_INDEX.__getitem__)
    text = f"syntax error, unexpected {_SHOWN[lookahead[0]]}"
    if len(expected) <= 4:
        for index, token in enumerate(expected):
            text += (", expecting " if index == 0 else " or ") + _SHOWN[token]
    return _refuse(lookahead[2], text)
