"""Rendering generated function trees as readable Python source with astor."""
import re

import astor
import gast

from .. import nodes

_MARKER = "ZYGOTE_COMMENT "
_COMMENT_LINE = re.compile(r"^(\s*)(['\"]{1,3})" + _MARKER + r"(.*?)\2\s*$", re.M)


def render(*functions):
    """Source text of gast ``FunctionDef`` trees; comment markers become ``# line N: ...``."""
    parts = []
    for fn in functions:
        module = nodes.module([_with_visible_comments(fn)])
        parts.append(astor.to_source(gast.gast_to_ast(module)))
    text = "\n\n".join(parts)
    return _COMMENT_LINE.sub(lambda m: f"{m.group(1)}# {m.group(3)}", text)


def _with_visible_comments(fn):
    fn = nodes.clone(fn)
    for node in gast.walk(fn):
        if getattr(node, "zygote_comment", False):
            node.value.value = _MARKER + node.value.value
    return fn
