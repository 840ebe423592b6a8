"""Tokenize a batch of small programs with the re-module documentation's tokenizer.

What it does: generates (deterministically) a few hundred short programs in the
toy BASIC-like language of the Python docs example (IF/THEN/ENDIF, FOR/NEXT,
GOSUB/RETURN, ``:=`` assignments, arithmetic, numbers) and, for each program,
consumes the ``tokenize()`` generator with ``list(tokenize(text))``.

Source: python/cpython, Doc/library/re.rst, section "Writing a Tokenizer"
(commit 002af297808049d8a4a034ba4e76a9251e2384d6), licence PSF License Agreement,
and since Python 3.8.6 code in the documentation is dual licensed under the
PSF License and the Zero-Clause BSD licence (Doc/license.rst).

What I changed: the Token class and the tokenize() generator are copied
unchanged. The docs' single ``statements`` string and print loop are replaced by
items(), which generates many programs in the same language with
random.Random(seed), and main(), which tokenizes each program.

SHAPE: the hot callable is a GENERATOR FUNCTION; the loop consumes it
(``tokens = list(tokenize(text))``) once per item, so the work happens while the
generator is iterated, not when tokenize() is called.
"""
import random
import sys
from typing import NamedTuple
import re

HOT = "tokenize"


class Token(NamedTuple):
    type: str
    value: str
    line: int
    column: int

def tokenize(code):
    keywords = {'IF', 'THEN', 'ENDIF', 'FOR', 'NEXT', 'GOSUB', 'RETURN'}
    token_specification = [
        ('NUMBER',   r'\d+(\.\d*)?'),  # Integer or decimal number
        ('ASSIGN',   r':='),           # Assignment operator
        ('END',      r';'),            # Statement terminator
        ('ID',       r'[A-Za-z]+'),    # Identifiers
        ('OP',       r'[+\-*/]'),      # Arithmetic operators
        ('NEWLINE',  r'\n'),           # Line endings
        ('SKIP',     r'[ \t]+'),       # Skip over spaces and tabs
        ('MISMATCH', r'.'),            # Any other character
    ]
    tok_regex = '|'.join('(?P<%s>%s)' % pair for pair in token_specification)
    line_num = 1
    line_start = 0
    for mo in re.finditer(tok_regex, code):
        kind = mo.lastgroup
        value = mo.group()
        column = mo.start() - line_start
        if kind == 'NUMBER':
            value = float(value) if '.' in value else int(value)
        elif kind == 'ID' and value in keywords:
            kind = value
        elif kind == 'NEWLINE':
            line_start = mo.end()
            line_num += 1
            continue
        elif kind == 'SKIP':
            continue
        elif kind == 'MISMATCH':
            raise RuntimeError(f'{value!r} unexpected on line {line_num}')
        yield Token(kind, value, line_num, column)


################ Benchmark driver (not in the original)

N_PROGRAMS = 300
STATEMENTS_PER_PROGRAM = 250
NAMES = ['quantity', 'total', 'price', 'tax', 'count', 'rate', 'x', 'y', 'i', 'n']


def _expression(rng):
    parts = []
    for _ in range(rng.randrange(1, 5)):
        if rng.random() < 0.4:
            parts.append(str(rng.randrange(1000)) if rng.random() < 0.5
                         else '%d.%02d' % (rng.randrange(100), rng.randrange(100)))
        else:
            parts.append(rng.choice(NAMES))
    ops = [rng.choice('+-*/') for _ in parts[1:]]
    out = parts[0]
    for op, p in zip(ops, parts[1:]):
        out += ' %s %s' % (op, p)
    return out


def _program(rng):
    lines = ['']
    indent = 0
    for _ in range(STATEMENTS_PER_PROGRAM):
        pad = '    ' * (indent + 1)
        r = rng.random()
        if r < 0.15 and indent < 3:
            lines.append(pad + 'IF %s THEN' % rng.choice(NAMES))
            indent += 1
        elif r < 0.25 and indent > 0:
            indent -= 1
            lines.append('    ' * (indent + 1) + 'ENDIF;')
        elif r < 0.30:
            lines.append(pad + 'GOSUB %s;' % rng.choice(NAMES))
        else:
            lines.append(pad + '%s := %s;' % (rng.choice(NAMES), _expression(rng)))
    while indent > 0:
        indent -= 1
        lines.append('    ' * (indent + 1) + 'ENDIF;')
    lines.append('    RETURN;')
    return '\n'.join(lines) + '\n'


def items(scale=1):
    "Deterministic list of program texts (scale times as many for scale > 1)."
    rng = random.Random(1234)
    return [_program(rng) for _ in range(N_PROGRAMS * scale)]


def bench_call(item):
    "One iteration of main()'s loop: consume the generator for one program."
    return list(tokenize(item))


def main(scale=1):
    texts = items(scale)
    n_tokens = 0
    n_lines = 0
    for text in texts:
        tokens = list(tokenize(text))
        n_tokens += len(tokens)
        n_lines += tokens[-1].line
    print('programs={} tokens={} lines={} last={}'.format(
        len(texts), n_tokens, n_lines, tokens[-1]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
