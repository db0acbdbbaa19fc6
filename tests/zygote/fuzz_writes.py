"""Random small programs that write in place, for the differential semantic fuzzer.

``program(rng)`` returns the source of a module defining ``fuzzed(x, y)`` (two arrays of
shape (3,)) over a global array ``G``, a global dict ``BOX`` and two helpers that write
into their argument. The body binds arrays, aliases them (``b = a``), takes views of them
(``a[::-1]``, ``a.T``, ``a.reshape(1, 3)[0]``, ``np.transpose(a)``), writes through any of
them (item, slice, repeated-index and ``...`` assignment, augmented assignment of names and
items, ``fill``, ``out=``, ``np.copyto``), writes into its arguments, the globals and a
closure's cell, calls the helpers, and keeps arrays in lists and dicts shared by two names
(``append``, ``pop``, item assignment, ``update``, ``setdefault``, ``del``), and builds
objects that two names, a holder object or a list reach, writing their attributes directly
and through their methods. Every function is smooth, so central differences are exact to
rounding at any input.
"""
import importlib.util
import sys

import numpy as np

HEADER = '''import numpy as np

W = np.array([0.7, 1.3, 0.9])
G = np.array([0.2, -0.4, 0.9])
BOX = {}


def fill(out, v):
    out[:] = v


def bump(out, c):
    out += c * out


class Cell:
    def __init__(self, v):
        self.v = v

    def scale(self, c):
        self.v = self.v * c

    def grow(self, a):
        self.v = self.v + np.sin(a)


class Holder:
    def __init__(self, cell):
        self.cell = cell


def fuzzed(x, y):
'''
GLOBALS = {"G": np.array([0.2, -0.4, 0.9])}
CONSTANTS = ["0.5", "1.5", "-0.7", "0.3", "1.2"]
VIEWS = ["{a}[::-1]", "{a}.T", "{a}.reshape(1, 3)[0]", "np.transpose({a})", "{a}[:]", "{a}"]


class _Body:
    def __init__(self, rng):
        self.rng = rng
        self.lines = []
        self.arrays = ["x", "y"]
        self.lists = []
        self.dicts = {}
        self.closure = None
        self.cells = []  # names bound to Cell objects (some to the same one)
        self.holders = []  # names bound to Holder objects
        self.count = 0

    def fresh(self, hint):
        self.count += 1
        return f"{hint}{self.count}"

    def pick(self, items):
        return items[self.rng.randrange(len(items))]

    def array(self):
        return self.pick(self.arrays)

    def const(self):
        return self.pick(CONSTANTS)

    def expr(self):
        """An expression for a fresh array of shape (3,)."""
        a, b, c = self.array(), self.array(), self.const()
        return self.pick([f"{a} * {c}", f"np.sin({a})", f"{a} * {b}", f"np.tanh({a}) + {b}",
                          f"np.cos({a} * {c}) * {b}", f"{a} + G * {c}", f"{a} * 1.0"])

    def scalar(self):
        a, i, c = self.array(), self.rng.randrange(3), self.const()
        return self.pick([f"{a}[{i}] * {c}", f"np.sum({a} * W)", f"np.sin({a}[{i}])"])

    def emit(self, line):
        self.lines.append("    " + line)

    def step(self):
        actions = [self.bind, self.bind, self.alias, self.view, self.write, self.write, self.write,
                   self.augment, self.method, self.helper, self.globals, self.loop, self.listing,
                   self.dicting, self.closing, self.objects, self.objects]
        self.pick(actions)()

    def bind(self):
        name = self.fresh("a")
        self.emit(f"{name} = {self.expr()}")
        self.arrays.append(name)

    def alias(self):
        name = self.fresh("b")
        self.emit(f"{name} = {self.array()}")
        self.arrays.append(name)

    def view(self):
        name = self.fresh("v")
        self.emit(f"{name} = {self.pick(VIEWS).format(a=self.array())}")
        self.arrays.append(name)

    def write(self):
        a, b, c, i = self.array(), self.array(), self.const(), self.rng.randrange(3)
        self.emit(self.pick([
            f"{a}[{i}] = {self.scalar()}",
            f"{a}[1:] = {b}[:2] * {c}",
            f"{a}[::2] = np.sin({b}[1:])",
            f"{a}[[0, 0]] = {b}[:2] * {c}",
            f"{a}[[0, 2, 0]] += {b} * {c}",
            f"{a}[...] = {self.expr()}",
            f"{a}[{i}] += {self.scalar()}",
            f"{a}[:2] *= {c}",
        ]))

    def augment(self):
        a, b, c = self.array(), self.array(), self.const()
        self.emit(self.pick([f"{a} += {b} * {c}", f"{a} *= {c}", f"{a} -= np.sin({b})"]))

    def method(self):
        a, b, c = self.array(), self.array(), self.const()
        self.emit(self.pick([f"{a}.fill({self.scalar()})", f"np.add({a}, {b}, out={a})",
                             f"np.multiply({a}, {c}, out={a})", f"np.copyto({a}, {b} * {c})",
                             f"np.sin({a}, out={a})"]))

    def helper(self):
        a, c = self.array(), self.const()
        self.emit(self.pick([f"fill({a}, {self.expr()})", f"bump({a}, {c})"]))

    def globals(self):
        a, i = self.array(), self.rng.randrange(3)
        self.emit(self.pick([f"G[{i}] = {self.scalar()}", f'BOX["k"] = np.sum({a} * W)',
                             f"{a}[{i}] = G[{(i + 1) % 3}] * {self.const()}"]))

    def loop(self):
        a, b, c = self.array(), self.array(), self.const()
        self.emit("for i in range(2):")
        self.emit("    " + self.pick([f"{a}[i] = {b}[i + 1] * {c}", f"{a}[i] += np.sin({b}[i])",
                                      f"{a}[i + 1] = {a}[i] * {c}"]))

    def listing(self):
        if not self.lists or self.rng.random() < 0.3:
            name, other = self.fresh("L"), self.fresh("M")
            self.emit(f"{name} = [{self.array()}, {self.array()}]")
            self.emit(f"{other} = {name}")
            self.lists += [name, other]
            return
        items = self.pick(self.lists)
        choice = self.rng.randrange(4)
        if choice == 0:
            self.emit(f"{items}.append({self.expr()})")
        elif choice == 1:
            self.emit(f"{items}[0] = {self.expr()}")
        elif choice == 2:
            name = self.fresh("p")
            self.emit(f"{name} = {items}.pop() if len({items}) > 1 else {items}[0]")
            self.arrays.append(name)
        else:
            name = self.fresh("e")
            self.emit(f"{name} = {items}[-1]")
            self.arrays.append(name)

    def dicting(self):
        if not self.dicts or self.rng.random() < 0.3:
            name, other = self.fresh("D"), self.fresh("E")
            self.emit(f'{name} = {{"k": {self.array()}}}')
            self.emit(f"{other} = {name}")
            self.dicts[name] = self.dicts[other] = {"k"}
            return
        d = self.pick(sorted(self.dicts))
        keys = self.dicts[d]
        choice = self.rng.randrange(4)
        if choice == 0:
            self.emit(f'{d}["j"] = {self.expr()}')
            keys.add("j")
        elif choice == 1:
            self.emit(f'{d}.update({{"m": {self.expr()}}})')
            keys.add("m")
        elif choice == 2:
            name = self.fresh("s")
            self.emit(f'{name} = {d}.setdefault("k", {self.array()})')
            keys.add("k")
            self.arrays.append(name)
        elif len(keys) > 1:
            key = self.pick(sorted(keys - {"k"}))
            self.emit(f'del {d}["{key}"]')
            keys.discard(key)

    def objects(self):
        if not self.cells or self.rng.random() < 0.25:
            name = self.fresh("c")
            self.emit(f"{name} = Cell({self.expr()})")
            self.cells.append(name)
            return
        cell, c = self.pick(self.cells), self.const()
        choice = self.rng.randrange(7)
        if choice == 0:
            other = self.fresh("d")
            self.emit(f"{other} = {cell}")
            self.cells.append(other)
        elif choice == 1:
            holder = self.fresh("h")
            self.emit(f"{holder} = Holder({cell})")
            self.holders.append(holder)
        elif choice == 2:
            self.emit(f"{cell}.v = {cell}.v * {c} + {self.array()}")
        elif choice == 3:
            self.emit(self.pick([f"{cell}.scale({c})", f"{cell}.grow({self.array()})"]))
        elif choice == 4 and self.holders:
            holder = self.pick(self.holders)
            self.emit(self.pick([f"{holder}.cell.v = np.sin({holder}.cell.v) + {self.array()}",
                                 f"{holder}.cell.scale({c})"]))
        elif choice == 5:
            pair = self.fresh("P")
            self.emit(f"{pair} = [{cell}, Cell({self.array()})]")
            self.emit(f"{pair}[0].v = {pair}[0].v * {c}")
        else:
            name = self.fresh("r")
            self.emit(f"{name} = {cell}.v * 1.0")
            self.arrays.append(name)

    def closing(self):
        if self.closure is None:
            self.closure = self.fresh("acc")
            self.emit(f"{self.closure} = np.zeros(3)")
            self.emit("")
            self.emit("def add(v):")
            self.emit(f"    {self.closure}[:] = {self.closure} + v")
            self.arrays.append(self.closure)
        self.emit(f"add({self.expr()})")

    def result(self):
        terms = [f"np.sum(np.sin({a}) * W)" for a in self.rng.sample(self.arrays, min(3, len(self.arrays)))]
        terms += [f"np.sum(np.cos({items}[-1]) * W)" for items in self.lists[:1]]
        terms += [f'np.sum({d}["k"] * W)' for d in sorted(self.dicts)[:1]]
        terms += [f"np.sum(np.sin({cell}.v) * W)" for cell in self.rng.sample(self.cells, min(2, len(self.cells)))]
        terms += [f"np.sum({holder}.cell.v * W)" for holder in self.holders[:1]]
        terms.append("np.sum(G * W)")
        if any("BOX" in line for line in self.lines):
            terms.append('BOX["k"]')
        return " + ".join(terms)


def program(rng, steps=None):
    """The source of one random module whose ``fuzzed(x, y)`` writes in place."""
    body = _Body(rng)
    for _ in range(steps or rng.randrange(2, 9)):
        body.step()
    body.emit(f"return {body.result()}")
    return HEADER + "\n".join(line for line in body.lines) + "\n"


def load(source, path):
    """The module of ``source``, written to ``path`` so that zygote can read its source."""
    path.write_text(source)
    name = f"fuzz_writes_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def reset(module):
    """The module's globals as every program starts from them."""
    module.G[...] = GLOBALS["G"]
    module.BOX.clear()
