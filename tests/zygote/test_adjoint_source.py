"""Snapshots of ``adjoint_source``: the generated code of a loop, of a call into another user
function and of an array function, as a reader sees it (simplified, the default)."""
import numpy as np

import zygote


def power_sum(x, n):
    total = 0.0
    for i in range(n):
        total = total + x ** i
    return total


def square(v):
    return v * v


def calls_square(x):
    y = square(x) + x
    return y


def layer(W, x, b):
    h = np.tanh(W @ x + b)
    return np.sum(h * h)


def lines_of(f):
    first = f.__code__.co_firstlineno
    return {f"l{i}": first + i for i in range(1, 6)}


def test_a_loop():
    assert zygote.adjoint_source(power_sum, 2.0, 3) == '''def power_sum_primal(x, n):
    stack = []
    total = 0.0
    n_iter = 0
    for i in range(n):
        n_iter = n_iter + 1
        x_pow_i = x ** i
        stack.append(i)
        total_add_x_pow_i = total + x_pow_i
        total = total_add_x_pow_i
    return total, (x, n_iter, stack)


def power_sum_adjoint(saved, dout):
    x, n_iter, stack = saved
    stack = list(stack)
    # line {l4}: return total
    dtotal = dout
    dn = 0
    dx = 0
    for _ in range(n_iter):
        # line {l3}: total = total + x ** i
        i = stack.pop()
        dx = add_cotangent(dx, dtotal * power_slope(x, i), x)
    return 0, dx, dn
'''.format(**lines_of(power_sum))


def test_a_call_into_another_user_function():
    # square(x) may return an object with its own __add__: the primal asks at run time,
    # and the adjoint applies add's rule in place when it did not.
    assert zygote.adjoint_source(calls_square, 2.0) == '''def calls_square_primal(x):
    square_x, square_x_saved = square_primal(x)
    y, y_back = add(square_x, x)
    return y, (square_x, x, y_back, square_x_saved)


def calls_square_adjoint(saved, dout):
    square_x, x, y_back, square_x_saved = saved
    # line {l2}: return y
    dy = dout
    # line {l1}: y = square(x) + x
    if y_back is None:
        dleft_part, dright_part = add_back(dy, square_x, x)
        dsquare_x = dleft_part
        dx = dright_part
    else:
        tmp, dsquare_x_part, dx_part = y_back(dy)
        dsquare_x = dsquare_x_part
        dx = dx_part
    tmp_1, dx_part_1 = square_adjoint(square_x_saved, dsquare_x)
    dx = add_cotangent(dx, dx_part_1, x)
    return 0, dx
'''.format(**lines_of(calls_square))


def test_an_array_function():
    W, x, b = np.ones((2, 3)), np.ones(3), np.ones(2)
    assert zygote.adjoint_source(layer, W, x, b) == '''def layer_primal(W, x, b):
    W_matmul_x = W @ x
    W_matmul_x_add_b = W_matmul_x + b
    h = np.tanh(W_matmul_x_add_b)
    h_mul_h = h * h
    sum_h_mul_h = np.sum(h_mul_h)
    return sum_h_mul_h, (h_mul_h, sum_h_mul_h, h, W, W_matmul_x, x, b)


def layer_adjoint(saved, dout):
    h_mul_h, sum_h_mul_h, h, W, W_matmul_x, x, b = saved
    # line {l2}: return np.sum(h * h)
    dh_mul_h = expand_reduced(unbroadcast(dout, sum_h_mul_h), h_mul_h, None,
        False)
    dh = dh_mul_h * h.conjugate()
    dh = add_cotangent(dh, dh_mul_h * h.conjugate(), h)
    # line {l1}: h = np.tanh(W @ x + b)
    dW_matmul_x_add_b = dh * holomorphic(1 - h * h)
    db = dW_matmul_x_add_b
    dW_matmul_x_1 = unbroadcast(dW_matmul_x_add_b, W_matmul_x)
    dW = matmul_da(dW_matmul_x_1, W, x)
    dx = matmul_db(dW_matmul_x_1, W, x)
    return 0, unbroadcast(dW, W), unbroadcast(dx, x), unbroadcast(db, b)
'''.format(**lines_of(layer))


def test_the_unsimplified_form_keeps_the_copies():
    W, x, b = np.ones((2, 3)), np.ones(3), np.ones(2)
    simplified = zygote.adjoint_source(layer, W, x, b)
    full = zygote.adjoint_source(layer, W, x, b, simplified=False)
    assert len(full.splitlines()) > len(simplified.splitlines())
