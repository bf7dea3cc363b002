"""Patches for the few DuckDB constructs that sqlglot does not yet translate for a target dialect.

The models stay in one dialect (DuckDB); each patch rewrites one node of the parsed tree into the
equivalent the target understands, so the rendered SQL means the same thing on every engine.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

Patch = Callable[[exp.Expression], exp.Expression]


def _spark_set_returning_alias(node: exp.Expression) -> exp.Expression:
    """`FROM generate_series(…) AS g(ts_hour)`: sqlglot drops the column alias; EXPLODE keeps it."""
    if isinstance(node, exp.Table) and isinstance(node.this, exp.GenerateSeries) and node.alias_column_names:
        return exp.Unnest(expressions=[node.this.copy()], alias=node.args["alias"].copy())
    return node


def _spark_regexp_split(node: exp.Expression) -> exp.Expression:
    """DuckDB's `regexp_split_to_array(s, re)` is Spark's `split(s, re)`."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "regexp_split_to_array":
        text, pattern = node.expressions
        return exp.RegexpSplit(this=text.copy(), expression=pattern.copy())
    return node


def _spark_isodow(node: exp.Expression) -> exp.Expression:
    """`extract(isodow from t)` (Monday = 1 … Sunday = 7) is Spark's `extract(dayofweek_iso from t)`."""
    if isinstance(node, exp.Extract) and node.this.name.upper() == "ISODOW":
        return exp.Extract(this=exp.var("DAYOFWEEK_ISO"), expression=node.expression.copy())
    return node


# PostgreSQL's reserved key words (docs, appendix C), which sqlglot leaves unquoted when used as names.
POSTGRES_RESERVED = frozenset(
    [
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "binary",
        "both", "case", "cast", "check", "collate", "collation", "column", "concurrently", "constraint", "create",
        "cross", "current_catalog", "current_date", "current_role", "current_schema", "current_time",
        "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except",
        "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group", "having", "ilike", "in",
        "initially", "inner", "intersect", "into", "is", "isnull", "join", "lateral", "leading", "left", "like",
        "limit", "localtime", "localtimestamp", "natural", "not", "notnull", "null", "offset", "on", "only", "or",
        "order", "outer", "overlaps", "placing", "primary", "references", "returning", "right", "select",
        "session_user", "similar", "some", "symmetric", "table", "tablesample", "then", "to", "trailing", "true",
        "union", "unique", "user", "using", "variadic", "verbose", "when", "where", "window", "with",
    ]
)


def _postgres_quote_reserved(node: exp.Expression) -> exp.Expression:
    """A name that is a reserved word in PostgreSQL (a window called `trailing`) must be quoted there."""
    if isinstance(node, exp.Identifier) and not node.quoted and node.name.lower() in POSTGRES_RESERVED:
        return exp.Identifier(this=node.name, quoted=True)
    return node


def _redshift_listagg(node: exp.Expression) -> exp.Expression:
    """`string_agg(x, sep ORDER BY y)` is Redshift's `LISTAGG(x, sep) WITHIN GROUP (ORDER BY y)`."""
    if isinstance(node, exp.GroupConcat) and isinstance(node.this, exp.Order):
        order = node.this
        value = exp.GroupConcat(this=order.this.copy(), separator=node.args.get("separator"))
        return exp.WithinGroup(this=value, expression=exp.Order(expressions=[e.copy() for e in order.expressions]))
    return node


def _redshift_regexp_replace_all(node: exp.Expression) -> exp.Expression:
    """Redshift's REGEXP_REPLACE replaces every match; its 4th argument is a position, not the 'g' flag."""
    if isinstance(node, exp.RegexpReplace) and node.args.get("modifiers") and node.args["modifiers"].name == "g":
        fixed = node.copy()
        fixed.set("modifiers", None)
        fixed.set("single_replace", None)
        return fixed
    return node


def _inline_named_windows(node: exp.Expression) -> exp.Expression:
    """`OVER w … WINDOW w AS (…)`: Redshift has no WINDOW clause, so each use gets the definition inline."""
    if not isinstance(node, exp.Select) or not node.args.get("windows"):
        return node
    select = node.copy()
    named = {w.name: w for w in select.args["windows"]}
    for window in select.find_all(exp.Window):
        definition = named.get(window.alias)
        if definition is not None and window.parent is not None and window not in select.args["windows"]:
            for part in ("partition_by", "order", "spec"):
                if definition.args.get(part):
                    window.set(part, definition.args[part].copy() if isinstance(definition.args[part], exp.Expression)
                               else [e.copy() for e in definition.args[part]])
            window.set("alias", None)
    select.set("windows", None)
    return select


def _redshift_keep_unnest(node: exp.Expression) -> exp.Expression:
    """Redshift has no set-returning UNNEST of an array; sqlglot would print nothing, so keep the call verbatim:
    Redshift then rejects the statement instead of silently yielding no rows."""
    if isinstance(node, exp.Explode):
        return exp.Anonymous(this="UNNEST", expressions=[node.this.copy()])
    return node


PATCHES: dict[str, tuple[Patch, ...]] = {
    "spark": (_spark_set_returning_alias, _spark_regexp_split, _spark_isodow),
    "postgres": (_postgres_quote_reserved,),
    "redshift": (_redshift_listagg, _redshift_regexp_replace_all, _inline_named_windows, _redshift_keep_unnest),
}


def patch(tree: exp.Expression, dialect: str) -> exp.Expression:
    """`tree` with every patch for `dialect` applied (unchanged for dialects without patches)."""
    for fix in PATCHES.get(dialect, ()):
        tree = tree.transform(fix)
    return tree
