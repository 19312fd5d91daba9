"""Chinese full-text search by CJK bigrams.

SQLite's ``unicode61`` tokenizer keeps a whole run of Han characters as one token and
``trigram`` cannot match two-character words (漏水, 纠纷), so the store indexes text it has
already cut: every CJK run becomes its overlapping bigrams plus its last character (so a
one-character query still finds the run's end), Latin words and digits stay whole and
lower-cased. Queries are cut the same way; the FTS index narrows the candidates and a LIKE on the
stored fields confirms the exact substring, so search finds precisely what LIKE finds.
"""

from __future__ import annotations

import re

# Han ideographs (BMP + extension A), CJK compatibility, and full-width forms count as CJK.
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+")
_IS_CJK = re.compile(rf"[{_CJK}]")


def tokens(text: str | None) -> list[str]:
    """The index tokens of ``text``."""
    if not text:
        return []
    out: list[str] = []
    for run in _RUN.findall(text):
        if _IS_CJK.match(run):
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
            out.append(run[-1])
        else:
            out.append(run.lower())
    return out


def index_text(*fields: str | None) -> str:
    """The text to put in the FTS row: tokens joined by spaces (unicode61 splits on them)."""
    return " ".join(t for f in fields for t in tokens(f))


def match_expression(query: str) -> str | None:
    """An FTS5 MATCH expression for ``query``, or None when it has nothing to search for.

    Every token must be present (AND); a single CJK character becomes a prefix query, since it
    is indexed only as the first character of a bigram or a run's last character.
    """
    terms: list[str] = []
    for run in _RUN.findall(query):
        if _IS_CJK.match(run):
            if len(run) == 1:
                terms.append(f'"{run}"*')
            else:
                terms.extend(f'"{run[i : i + 2]}"' for i in range(len(run) - 1))
        else:
            terms.append(f'"{run.lower()}"*')
    if not terms:
        return None
    return " AND ".join(dict.fromkeys(terms))


def like_terms(query: str) -> list[str]:
    """The substrings a hit must contain (each run of the query, in order of appearance)."""
    return [run for run in _RUN.findall(query)]
