"""The primal and adjoint of in-place writes: item assignment, ``del``, in-place operators.

A function that writes in place is generated in *store mode*: its primal performs each write
on the user's object through ``zygote.writes`` (which records the overwritten part in the
``writes`` log), and its adjoint keeps the cotangents of arrays, lists and dicts in the
backward pass's ``Store`` by object rather than by name: ``dy = store.take(y, dy)`` where
``y`` is assigned, ``dy = store.add(y, dy, part)`` where a cotangent reaches ``y``, and
``undo(store, writes, v)`` where a write is undone. Names that only hold Python numbers
keep their plain cotangents. Functions without writes are generated as before.

``Writing`` is the part of the generator in ``transform`` that does this.
"""
import gast

from .. import nodes
from ..activity import NUMERIC
from .analysis import VIEWING

AUGMENT = "augment"


def writes_in(body, helpers, rebinding):
    """Whether normal-form ``body`` writes in place: item assignment, ``del`` or an in-place
    operator on a name not in ``rebinding`` (see ``rebinding_augments``)."""
    augment = {name for name, key in helpers.items() if key == AUGMENT}
    for node in nodes.walk_scope(body):
        if isinstance(node, gast.Delete):
            return True
        if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Subscript):
            return True
        found = _augment_of(node, augment)
        if found is not None and found[0] not in rebinding:
            return True
    return False


def writes_shared_objects(tree, numeric=frozenset()):
    """Whether the function (nested functions included) writes an attribute of an object that
    another of its names may reach, or calls a method for its effect (its result unread) on an object bound to two names: the
    adjoint must then keep that object's cotangent by identity (store mode), not by name, or
    a write through one name would miss the cotangent that reaches the object through another
    (``keep = box; box.v = 2 * box.v; return keep.v``). Names in ``numeric`` hold numbers or
    arrays (whose methods write nothing zygote does not see)."""
    written, receivers, reached, copies = set(), set(), set(), []
    loads = {}
    for node in nodes.walk(tree):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            loads[node.id] = loads.get(node.id, 0) + 1
    for node in nodes.walk(tree):
        if isinstance(node, (gast.FunctionDef, gast.Lambda)) and node is not tree:
            reached.update(nodes.names_loaded(node))  # a closure reaches what it reads
        if isinstance(node, gast.Expr) and _method_call(node.value):
            receivers.add(node.value.func.value.id)
        if not isinstance(node, gast.Assign):
            continue
        target, value = node.targets[0], node.value
        if _method_call(value) and isinstance(target, gast.Name) and not loads.get(target.id):
            # a method called for what it does, not for what it returns: it may write
            receivers.add(value.func.value.id)
        if isinstance(target, gast.Attribute) and isinstance(target.value, gast.Name):
            written.add(target.value.id)
        if isinstance(target, gast.Name) and isinstance(value, gast.Name):
            copies.append((target.id, value.id))
        elif isinstance(target, gast.Name) and isinstance(value, (gast.Attribute, gast.Subscript)):
            reached.add(target.id)  # a part of another object
        if isinstance(value, (gast.List, gast.Tuple, gast.Set, gast.Dict, gast.Call)) \
                or not isinstance(target, gast.Name):
            reached.update(n for n in nodes.names_loaded(value))  # held by a container or callee
    # ``y = t`` binds a second name to t's object only where t is read again (not a
    # temporary of the normal form copied into the user's name)
    aliased = {name for target, source in copies if loads.get(source, 0) > 1 for name in (target, source)}
    reached |= aliased
    return bool((written & reached) - numeric) or bool((receivers & aliased) - numeric)


def _method_call(value):
    return isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
        and isinstance(value.func.value, gast.Name)


def rebinding_augments(body, helpers, params, scalars):
    """Names whose ``y op= v`` may rebind ``y`` to ``y op v``: Python numbers, and values made
    in this function by arithmetic that are only ever read by arithmetic, by functions of
    modules that return new arrays, or by ``return``: no other name, view or container can
    see them."""
    augment = {name for name, key in helpers.items() if key == AUGMENT}
    assigned = {n.id for n in nodes.walk_scope(body) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    made, spoilt = set(), set(params)
    for node in nodes.walk_scope(body):
        if isinstance(node, gast.Assign):
            target, value = node.targets[0], node.value
            if isinstance(target, gast.Name):
                if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Constant)) \
                        or _augment_of(node, augment) is not None:
                    made.add(target.id)
                else:
                    spoilt.add(target.id)
            if not _reads_by_value(value, augment, assigned):
                spoilt.update(_may_alias(value))
            if isinstance(target, gast.Subscript) and isinstance(value, gast.Name):
                spoilt.add(value.id)  # stored into a container
        elif isinstance(node, gast.Return) or not isinstance(node, gast.stmt):
            continue
        elif isinstance(node, gast.For):
            spoilt.add(node.target.id)
            spoilt.update(nodes.names_loaded(node.iter))
        elif isinstance(node, (gast.If, gast.While)):
            continue  # a test reads a value; the branches are statements of their own
        else:
            spoilt.update(nodes.names_loaded(node))
    return (made - spoilt) | set(scalars)


def _may_alias(value):
    """Names whose objects the result of ``value`` may share: a subscript's or attribute's
    object (not its index), a call's arguments and receiver, a display's items, a copy."""
    if isinstance(value, (gast.Subscript, gast.Attribute)):
        return nodes.names_loaded(value.value)
    return nodes.names_loaded(value)


def _reads_by_value(value, augment, assigned):
    """Whether the operation ``value`` only reads the values of its operands (keeps no
    reference to them and returns no view of them)."""
    if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Compare, gast.Constant)):
        return True
    if isinstance(value, gast.Call):
        func = value.func
        if isinstance(func, gast.Name) and func.id in augment:
            return True
        root = func
        while isinstance(root, gast.Attribute):
            root = root.value
        return isinstance(func, gast.Attribute) and isinstance(root, gast.Name) \
            and root.id not in assigned and func.attr not in VIEWING
    return False


def _augment_of(node, augment):
    """``(name, value)`` for a statement ``name = augment(name, value)``, else None."""
    if isinstance(node, gast.Assign) and isinstance(node.value, gast.Call) \
            and isinstance(node.value.func, gast.Name) and node.value.func.id in augment:
        return node.targets[0].id, node.value.args[1]
    return None


class Writing:
    """Methods of the primal/adjoint generator for functions that write in place."""

    def start_writing(self):
        """Decide store mode for the whole function, before any statement is generated."""
        helpers = self.nf.helpers
        self.augment_names = {n for n, key in helpers.items() if key == AUGMENT}
        self.store = None
        self.log = None
        if not self.augment_names:
            self.rebinding = set(self.scalar_closed)
        else:
            self.rebinding = rebinding_augments(self.tree.body, helpers, self.params + self._other_params(),
                                                self.scalar_closed)
        numeric = frozenset(n for n, kind in self.kind.items() if kind == NUMERIC)
        shared_objects = not self.parsed.shared and writes_shared_objects(self.tree, numeric)
        if not self.nf.writes and not self.writes_through and not shared_objects:
            return
        if self.parsed.shared:
            # zygote's generated code (differentiated again) writes only into its own
            # cotangent lists, which nobody else sees: writes may copy and rebind there.
            self.rebinding = self.rebinding | set(self.kind) | set(self.primal_names)
        elif self.writes_through or shared_objects or writes_in(self.tree.body, helpers, self.rebinding):
            self.store = self.fresh_adjoint("store")
            self.log = self.namer.fresh("writes")
            self.primal_names.add(self.log)
        self.rebind_augments()
        if self.store is not None:
            for node in nodes.walk_scope(self.tree.body):
                if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Subscript):
                    # a write leaves its target bound to the same object
                    site = self.sites.of_stmt.get(id(node))
                    sites = self.sites.assigned.get(node.targets[0].value.id, [])
                    if site in sites:
                        sites.remove(site)

    def rebind_augments(self):
        """``y = augment(y, v)`` becomes ``y = v`` where ``rebinding_augments`` allows it."""
        for node in nodes.walk_scope(self.tree.body):
            found = _augment_of(node, self.augment_names)
            if found is not None and found[0] in self.rebinding:
                node.value = found[1]

    def tracked(self, name):
        """Whether ``name``'s cotangent goes through the store (it may hold a mutable object)."""
        return self.store is not None and name in self.kind and name not in self.scalar_closed

    def store_call(self, method, args):
        return nodes.call(nodes.attribute(nodes.load(self.store), method), args)

    def own_cotangent(self, name):
        return nodes.load(self.d(name)) if name in self.is_set else nodes.const(0)

    def take(self, name):
        """``dname = store.take(name, dname)``: the whole cotangent of ``name``'s value."""
        stmt = nodes.assign(self.d(name), self.store_call("take", [nodes.load(name), self.own_cotangent(name)]))
        self.is_set.add(name)
        return stmt

    def add_to_store(self, name, value, out):
        out.append(nodes.assign(self.d(name), self.store_call("add", [nodes.load(name),
                                                                      self.own_cotangent(name), value])))
        self.is_set.add(name)

    def taking(self, name, site, generate):
        """The primal and adjoint of an assignment to tracked ``name``: ``generate(dy)`` with
        ``dy`` read from the store first."""
        take = self.take(name)
        primal, adjoint = generate(nodes.load(self.d(name)))
        if not adjoint:
            return primal, adjoint
        push, pop = self.save({name}, site)
        return primal + push, pop + [take] + adjoint

    def write_item(self, stmt, target, value, site):
        index = index_value(target.slice, self)
        primal = [nodes.expr(self.rt_call("write_item", [nodes.load(self.log), target.value, index, value]))]
        return self.undoing(stmt, primal, value, site)

    def write_attribute_by_identity(self, stmt, target, value, site):
        """``obj.name = value`` in store mode: ``undo_attribute`` takes the object's whole
        cotangent, from every name that reached it, from the store; the written attribute's
        part goes to ``value`` and the rest stays with the object for the statements before."""
        name = target.value.id
        part = self.fresh_adjoint("dvalue_part")
        adjoint = [nodes.assign([part, self.d(name)], self.rt_call("undo_attribute", [
            nodes.load(self.store), nodes.load(name), self.own_cotangent(name), nodes.const(target.attr)]))]
        self.is_set.add(name)
        if self.activity.active(value):
            self.contribute(value.id, nodes.load(part), adjoint)
        return self.with_saves(stmt, [stmt], adjoint, site)

    def stmt_Delete(self, stmt, site):
        target = stmt.targets[0]
        index = index_value(target.slice, self)
        primal = [nodes.expr(self.rt_call("delete_item", [nodes.load(self.log), target.value, index]))]
        return self.undoing(stmt, primal, nodes.const(0), site)

    def undoing(self, stmt, primal, value, site):
        undo = self.rt_call("undo", [nodes.load(self.store), nodes.load(self.log), value])
        if isinstance(value, gast.Name) and self.activity.active(value):
            part = self.fresh_adjoint("dvalue_part")
            adjoint = [nodes.assign(part, undo)]
            self.contribute(value.id, nodes.load(part), adjoint)
        else:
            adjoint = [nodes.expr(undo)]
        return self.with_saves(stmt, primal, adjoint, site)

    def augmented(self, stmt, name, value, site):
        """``y = augment(writes, y, v)``: ``v``'s cotangent is all of ``y``'s afterwards."""
        new = value.args[1]
        stmt.value = self.rt_call("augment", [nodes.load(self.log), nodes.load(name), new])
        take = self.take(name)
        self.kill(name)
        adjoint = [take, nodes.expr(self.rt_call("undo", [nodes.load(self.store), nodes.load(self.log), new]))]
        if isinstance(new, gast.Name) and self.activity.active(new):
            self.contribute(new.id, nodes.load(self.d(name)), adjoint)
        return self.with_saves(stmt, [stmt], adjoint, site)

    def wrap_adjoint(self, body):
        """The adjoint body in store mode: the pass's store opened first, closed last."""
        if self.store is None:
            return body
        opened = nodes.assign(self.store, self.rt_call("open_store", [nodes.load(self.log)]))
        closed = nodes.expr(self.rt_call("close_store", [nodes.load(self.store)]))
        return [opened, nodes.try_finally(body, [closed])]


def index_value(index, gen):
    """An expression that evaluates to the index object of a subscript (slices become slice())."""
    if isinstance(index, gast.Slice):
        parts = [p if p is not None else nodes.const(None) for p in (index.lower, index.upper, index.step)]
        return nodes.call(nodes.load(gen.helper(slice, "slice")), parts)
    if isinstance(index, gast.Tuple):
        return nodes.tuple_load([index_value(e, gen) for e in index.elts])
    return index
