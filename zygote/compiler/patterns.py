"""Lowering ``match`` statements to ``if`` chains that test each pattern the way Python does.

The subject is evaluated once; the cases are tried in order, the first whose pattern matches
and whose guard holds runs, and a ``matched`` flag keeps the later ones from running. A
pattern becomes nested tests: a literal compares with ``==`` (``None``, ``True``, ``False``
with ``is``), a sequence pattern checks ``zygote.runtime.match_sequence`` and reads items
by index, a mapping pattern checks its keys and reads them, a class pattern checks
``isinstance`` and reads its fields (positional ones through ``__match_args__``), an
or-pattern tries its alternatives in order. Captures are plain assignments, so the
gradient flows through the items and fields read, as it does for any subscript.
``MatchStatements`` is the part of the normaliser in ``normalise`` that does this.
"""
import gast

from .. import nodes


class MatchStatements:
    """Methods of the normaliser for ``match`` statements."""

    def stmt_Match(self, node):
        with self.guarded():
            subject = self.atom(node.subject)
        if isinstance(subject, gast.Name):
            subject = self.assign_temp(subject, "subject")  # a case may rebind the name
        matched = self.namer.fresh("matched")
        self.emit(nodes.assign(matched, nodes.const(False)))
        self._cases(subject, list(node.cases), matched)

    def _cases(self, subject, cases, matched):
        case = cases[0]

        def run_case():
            def body():
                self.emit(nodes.assign(matched, nodes.const(True)))
                self.out.extend(self.block(case.body))
            if case.guard is None:
                body()
            else:
                self._if(self.atom(case.guard), body)
        self.pattern(subject, case.pattern, run_case)
        if len(cases) > 1:
            self._if(self.assign_temp(nodes.not_(nodes.load(matched)), "unmatched"),
                     lambda: self._cases(subject, cases[1:], matched))

    def _if(self, test, fill):
        """``if test:`` around what ``fill()`` emits."""
        outer, self.out = self.out, []
        fill()
        body, self.out = self.out, outer
        self.emit(nodes.if_(test, body or [nodes.pass_()]))

    def _test(self, value, hint, then):
        self._if(self.assign_temp(value, hint), then)

    def pattern(self, subject, pattern, then):
        """Emit the tests of ``pattern`` against atom ``subject``; ``then()`` emits what runs
        when it matches, after its captures are bound."""
        method = getattr(self, "pattern_" + type(pattern).__name__, None)
        if method is None:
            self.refuse(f"the pattern {type(pattern).__name__}", pattern)
        method(subject, pattern, then)

    def pattern_MatchValue(self, subject, pattern, then):
        value = self.atom(pattern.value)
        self._test(nodes.compare(subject, gast.Eq(), value), "equal", then)

    def pattern_MatchSingleton(self, subject, pattern, then):
        self._test(nodes.compare(subject, gast.Is(), nodes.const(pattern.value)), "same", then)

    def pattern_MatchAs(self, subject, pattern, then):
        def bind():
            if pattern.name is not None:
                self.emit(nodes.assign(pattern.name, subject))
            then()
        if pattern.pattern is None:
            bind()
        else:
            self.pattern(subject, pattern.pattern, bind)

    def pattern_MatchOr(self, subject, pattern, then):
        found = self.namer.fresh("alternative")
        self.emit(nodes.assign(found, nodes.const(False)))
        for alternative in pattern.patterns:
            self._test(nodes.not_(nodes.load(found)), "untried", lambda alternative=alternative: self.pattern(
                subject, alternative, lambda: self.emit(nodes.assign(found, nodes.const(True)))))
        self._if(nodes.load(found), then)

    def pattern_MatchSequence(self, subject, pattern, then):
        parts = pattern.patterns
        star = next((i for i, p in enumerate(parts) if isinstance(p, gast.MatchStar)), None)
        fixed = len(parts) - (star is not None)
        shape = nodes.call(self.helper("match_sequence"),
                           [subject, nodes.const(fixed), nodes.const(star is not None)])

        def items():
            reads = []
            for i, part in enumerate(parts):
                if star is None or i < star:
                    reads.append((part, nodes.const(i)))
                elif i > star:
                    reads.append((part, nodes.const(i - len(parts))))
            if star is not None and parts[star].name is not None:
                after = len(parts) - star - 1
                rest = nodes.make(gast.Slice, lower=nodes.const(star),
                                  upper=nodes.const(-after) if after else None, step=None)
                sliced = self.assign_temp(nodes.subscript(subject, rest), "rest")
                self.emit(nodes.assign(parts[star].name, nodes.call("list", [sliced])))
            self._match_items(subject, reads, then)
        self._test(shape, "is_sequence", items)

    def _match_items(self, subject, reads, then):
        """Match each ``(pattern, index)`` of ``reads`` against ``subject[index]`` in turn."""
        if not reads:
            then()
            return
        (part, index), rest = reads[0], reads[1:]
        item = self.assign_temp(nodes.subscript(subject, index), "item")
        self.pattern(item, part, lambda: self._match_items(subject, rest, then))

    def pattern_MatchMapping(self, subject, pattern, then):
        keys = [self.atom(k) for k in pattern.keys]
        has_keys = nodes.call(self.helper("match_mapping"), [subject, nodes.tuple_load(keys)])

        def values():
            if pattern.rest is not None:
                rest = nodes.call(self.helper("mapping_rest"), [subject, nodes.tuple_load(keys)])
                self.emit(nodes.assign(pattern.rest, self.assign_temp(rest, "rest")))
            self._match_items(subject, list(zip(pattern.patterns, keys)), then)
        self._test(has_keys, "has_keys", values)

    def pattern_MatchClass(self, subject, pattern, then):
        cls = self.atom(pattern.cls)
        fits = nodes.call(self.helper("match_class"), [
            subject, cls, nodes.const(len(pattern.patterns)), nodes.tuple_load(
                [nodes.const(a) for a in pattern.kwd_attrs])])

        def fields(i=0):
            if i < len(pattern.patterns):
                field = self.assign_temp(nodes.call(self.helper("match_field"),
                                                    [subject, cls, nodes.const(i)]), "field")
                self.pattern(field, pattern.patterns[i], lambda: fields(i + 1))
                return
            k = i - len(pattern.patterns)
            if k < len(pattern.kwd_attrs):
                field = self.assign_temp(nodes.attribute(subject, pattern.kwd_attrs[k]), pattern.kwd_attrs[k])
                self.pattern(field, pattern.kwd_patterns[k], lambda: fields(i + 1))
                return
            then()
        self._test(fits, "fits", fields)
