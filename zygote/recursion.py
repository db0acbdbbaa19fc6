"""Room on the interpreter's stack for the frames zygote adds to a differentiated recursion.

Plain Python spends one frame per level of a recursion; differentiated, a level costs up to
``FRAMES_PER_LEVEL`` frames (the call protocol's dispatch around the generated primal, and
the adjoint later), so at the same ``sys.setrecursionlimit`` a recursion would stop at a
fraction of the depth the plain call reaches. While zygote differentiates a call that can
reach user functions, the limit is raised to cover those frames, and put back when the
outermost such call on any thread returns (unless the differentiated code set a limit of
its own, which then stays, as it would after the plain call). Inside, ``sys.getrecursionlimit``
reads the raised value.

The C stack is guarded apart from the limit: each differentiated call also nests some of
the interpreter's C frames, so with a limit raised far enough a deep recursion would run
past the thread's stack and kill the process. ``NESTING`` counts the differentiated calls
nested on each thread, and past what the stack holds zygote raises ``RecursionError``
naming the function (``too_deep``).

>>> import sys
>>> def depth_seen():
...     return sys.getrecursionlimit()
>>> with_headroom(depth_seen) == FRAMES_PER_LEVEL * sys.getrecursionlimit() + MARGIN
True
"""
import resource
import sys
import threading

FRAMES_PER_LEVEL = 6  # a method's: call_method, _call_bound, call, pullback_function, the primal
MARGIN = 64  # zygote's own frames around the outermost call (gradient, the public pullback)


class _State(threading.local):
    active = False  # whether this thread runs inside ``with_headroom``


_STATE = _State()
_LOCK = threading.Lock()
_holders = 0  # threads inside with_headroom
_base = 0  # the limit before it was raised
_raised = 0  # the limit set


def _raise_limit():
    global _holders, _base, _raised
    with _LOCK:
        if _holders == 0 or sys.getrecursionlimit() != _raised:
            _base = sys.getrecursionlimit()
            _raised = _base * FRAMES_PER_LEVEL + MARGIN
            sys.setrecursionlimit(_raised)
        _holders += 1


def _restore_limit():
    global _holders
    with _LOCK:
        _holders -= 1
        if _holders == 0 and sys.getrecursionlimit() == _raised:
            sys.setrecursionlimit(_base)


def active():
    """Whether this thread already runs with the raised limit."""
    return _STATE.active


_UNWIND = []  # (mark, unwind): what the outermost differentiated call restores if it raises


def on_unwind(mark, unwind):
    """Register bookkeeping to put back when the outermost differentiated call raises:
    ``mark()`` is taken as it starts, ``unwind(marked)`` runs if it raises (a backward pass's
    store that an error left open is closed)."""
    _UNWIND.append((mark, unwind))


def with_headroom(fn, *args):
    """``fn(*args)`` with the recursion limit raised for zygote's frames (once per thread)."""
    state = _STATE
    if state.active:
        return fn(*args)
    state.active = True
    _raise_limit()
    marks = [mark() for mark, _ in _UNWIND]
    try:
        return fn(*args)
    except BaseException:
        for (_, unwind), marked in zip(_UNWIND, marks):
            unwind(marked)
        raise
    finally:
        state.active = False
        _restore_limit()


def back_with_headroom(back):
    """``back``, run with the raised limit when it is called outside of it."""
    def deep_back(*args):
        return with_headroom(back, *args)
    return deep_back


class _Nesting(threading.local):
    """How many calls of user functions are being differentiated inside each other on this
    thread (``depth``, kept by the reverse and the forward pass), and how many its C stack
    holds (``most``)."""

    depth = 0

    def __init__(self):
        if threading.current_thread() is threading.main_thread():
            stack = resource.getrlimit(resource.RLIMIT_STACK)[0]
        else:
            stack = threading.stack_size()
        if stack <= 0:  # unlimited, or the platform's default for threads
            stack = _DEFAULT_STACK
        self.most = max(64, stack // _STACK_PER_CALL)


_DEFAULT_STACK = 8 << 20
_STACK_PER_CALL = 2048  # bytes of C stack one differentiated call may take, with a margin
NESTING = _Nesting()


def too_deep(fn, most):
    """The ``RecursionError`` for a recursion deeper than this thread's C stack holds."""
    return RecursionError(
        f"maximum recursion depth exceeded while differentiating {getattr(fn, '__qualname__', fn)!r}: "
        f"zygote differentiates at most {most} calls nested inside each other on this thread's "
        "stack; run the computation in a thread with a larger stack (threading.stack_size) "
        "to go deeper")
