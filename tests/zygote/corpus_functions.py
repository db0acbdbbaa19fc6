"""A corpus of realistic functions, written as a user would write them, for ``test_corpus``.

Each entry of ``CORPUS`` is ``(name, function, args)``: ``function(*args)`` returns a real
scalar, and array outputs are reduced with uneven weights. The entries vary the *language*
constructs (loops, branches, recursion, closures, objects, containers) more than the numpy
functions they call.
"""
import math

import numpy as np

from zygote.testing import weighted_sum

rng = np.random.default_rng(20240611)


def vec(n):
    return rng.standard_normal(n)


def mat(m, n):
    return rng.standard_normal((m, n))


# -- numerical routines ---------------------------------------------------------------------


def newton_sqrt(a):
    """Square root of ``a`` by six Newton steps from a fixed start."""
    x = 1.0
    for _ in range(6):
        x = 0.5 * (x + a / x)
    return x


def newton_cubic_root(c):
    """The real root of ``x**3 + x - c`` by Newton's method, a fixed number of steps."""
    x = 0.0
    for _ in range(8):
        fx = x ** 3 + x - c
        dfx = 3 * x ** 2 + 1
        x -= fx / dfx
    return x


def horner(coeffs, x):
    """``coeffs[0] + coeffs[1] x + ...`` by Horner's rule, highest power first."""
    y = 0.0
    for c in reversed(coeffs):
        y = y * x + c
    return y


def horner_array(coeffs, xs):
    y = np.zeros_like(xs)
    for k in range(len(coeffs) - 1, -1, -1):
        y = y * xs + coeffs[k]
    return weighted_sum(y)


def trapezoid(a, b):
    """The integral of ``exp(-a t**2)`` over ``[0, b]`` by the trapezoid rule on 16 panels."""
    n = 16
    h = b / n
    total = 0.5 * (1.0 + math.exp(-a * b * b))
    for i in range(1, n):
        t = i * h
        total += math.exp(-a * t * t)
    return total * h


def simpson(k, upper):
    """Simpson's rule for ``∫ sin(k t) / (1 + t) dt`` over ``[0, upper]``."""
    n = 10
    h = upper / n
    s = 0.0
    for i in range(n + 1):
        t = i * h
        f = math.sin(k * t) / (1.0 + t)
        if i == 0 or i == n:
            weight = 1.0
        elif i % 2 == 1:
            weight = 4.0
        else:
            weight = 2.0
        s = s + weight * f
    return s * h / 3.0


def euler_logistic(r, K):
    """Logistic growth ``p' = r p (1 - p / K)`` by forward Euler."""
    p = 0.1
    dt = 0.1
    for _ in range(30):
        p = p + dt * r * p * (1 - p / K)
    return p


def damped_oscillator_rk4(k, c):
    """Position of a damped oscillator ``x'' = -k x - c x'`` after RK4 steps."""
    def field(state):
        x, v = state
        return v, -k * x - c * v

    x, v = 1.0, 0.0
    h = 0.1
    for _ in range(20):
        k1 = field((x, v))
        k2 = field((x + 0.5 * h * k1[0], v + 0.5 * h * k1[1]))
        k3 = field((x + 0.5 * h * k2[0], v + 0.5 * h * k2[1]))
        k4 = field((x + h * k3[0], v + h * k3[1]))
        x = x + h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        v = v + h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
    return x + 0.3 * v


def rk4_vector(theta, y0):
    """RK4 for the linear system ``y' = A(θ) y`` with arrays."""
    A = np.array([[0.0, 1.0], [-theta[0], -theta[1]]])
    y = y0
    h = 0.05
    for _ in range(10):
        k1 = A @ y
        k2 = A @ (y + h / 2 * k1)
        k3 = A @ (y + h / 2 * k2)
        k4 = A @ (y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return weighted_sum(y)


def bisection_root(p):
    """Root of ``x**3 - p`` in ``[0, 3]`` by bisection: piecewise constant in ``p``, so add ``p``."""
    lo, hi = 0.0, 3.0
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        if mid ** 3 - p > 0:
            hi = mid
        else:
            lo = mid
    # The bracket is a step function of p; one Newton step from it is differentiable.
    x = 0.5 * (lo + hi)
    x = x - (x ** 3 - p) / (3 * x * x)
    return x


def taylor_exp(x):
    """``exp(x)`` by its Taylor series, summed until the term is small."""
    term = 1.0
    total = 1.0
    n = 1
    while abs(term) > 1e-12:
        term = term * x / n
        total = total + term
        n += 1
    return total


def taylor_sin_with_break(x):
    s = 0.0
    term = x
    k = 0
    while True:
        s += term
        k += 1
        term = -term * x * x / ((2 * k) * (2 * k + 1))
        if abs(term) < 1e-14:
            break
    return s


def continued_fraction(x):
    """``tan(x)`` by Lambert's continued fraction, evaluated from the bottom up."""
    depth = 12
    acc = 2 * depth + 1.0
    for k in range(depth - 1, -1, -1):
        acc = (2 * k + 1) - x * x / acc
    return x / acc


def fib_recurrence(a, b):
    """A Fibonacci-like recurrence on floats, ``f_{n+1} = f_n + 0.5 f_{n-1}``, with swaps."""
    for _ in range(10):
        a, b = b, b + 0.5 * a
    return b / (1 + a * a)


def chebyshev_sum(coeffs, x):
    """``Σ c_k T_k(x)`` with the three-term recurrence."""
    t_prev, t_cur = 1.0, x
    total = coeffs[0] * t_prev + coeffs[1] * t_cur
    for c in coeffs[2:]:
        t_prev, t_cur = t_cur, 2 * x * t_cur - t_prev
        total = total + c * t_cur
    return total


def power_iteration(A):
    """The Rayleigh quotient after a few power iterations."""
    v = np.ones(A.shape[0])
    for _ in range(6):
        w = A @ v
        v = w / np.sqrt(np.sum(w * w))
    return v @ A @ v


def fixed_point_cos(a):
    """Fixed point of ``x = cos(a x)`` by plain iteration."""
    x = 0.5
    i = 0
    while i < 40:
        x = math.cos(a * x)
        i += 1
    return x


def gauss_seidel(A, b):
    """A few Gauss-Seidel sweeps, writing the solution into an array entry by entry."""
    n = len(b)
    x = np.zeros(n)
    for _ in range(8):
        for i in range(n):
            s = b[i]
            for j in range(n):
                if j != i:
                    s = s - A[i, j] * x[j]
            x[i] = s / A[i, i]
    return weighted_sum(x)


# -- small simulations ----------------------------------------------------------------------


def projectile_with_drag(v0, drag):
    """Horizontal range reached when a projectile with drag comes down, found by stepping."""
    x, y = 0.0, 0.0
    vx, vy = v0 * math.cos(0.7), v0 * math.sin(0.7)
    dt = 0.01
    g = 9.81
    for _ in range(2000):
        speed = math.sqrt(vx * vx + vy * vy)
        vx = vx - dt * drag * speed * vx
        vy = vy - dt * (g + drag * speed * vy)
        x = x + dt * vx
        y = y + dt * vy
        if y < 0:
            break
    return x


def spring_chain(k, positions):
    """Potential energy of a chain of springs after a few damped relaxation steps."""
    x = positions
    for _ in range(5):
        stretch = x[1:] - x[:-1] - 1.0
        force = np.zeros_like(x)
        force[:-1] += k * stretch
        force[1:] -= k * stretch
        x = x + 0.05 * force
    stretch = x[1:] - x[:-1] - 1.0
    return 0.5 * np.sum(k * stretch ** 2) + weighted_sum(x)


def predator_prey(alpha, beta):
    """Lotka-Volterra by Euler steps, recording the trajectory in lists."""
    prey, pred = 1.0, 0.5
    prey_history = []
    pred_history = []
    for _ in range(25):
        dprey = alpha * prey - beta * prey * pred
        dpred = -0.4 * pred + 0.3 * prey * pred
        prey, pred = prey + 0.05 * dprey, pred + 0.05 * dpred
        prey_history.append(prey)
        pred_history.append(pred)
    return sum(prey_history) / len(prey_history) + 0.5 * max(pred_history)


def heat_equation(u0, kappa):
    """Explicit finite differences for the 1-d heat equation with fixed ends."""
    u = u0.copy()
    for _ in range(10):
        lap = np.zeros_like(u)
        lap[1:-1] = u[:-2] - 2 * u[1:-1] + u[2:]
        u = u + kappa * lap
    return weighted_sum(u)


class Particle:
    """A particle on a spring: constants on the object, the state passed through ``step``."""

    def __init__(self, mass, stiffness):
        self.mass = mass
        self.stiffness = stiffness

    def force(self, x):
        return -self.stiffness * x

    def step(self, x, v, dt):
        v = v + dt * self.force(x) / self.mass
        return x + dt * v, v

    @property
    def period(self):
        return 2 * math.pi * math.sqrt(self.mass / self.stiffness)


def particle_in_well(particle, x0):
    x, v = x0, np.zeros_like(x0)
    for _ in range(10):
        x, v = particle.step(x, v, 0.1)
    return 0.5 * particle.mass * np.sum(v ** 2) + weighted_sum(x) + 0.1 * particle.period


# -- statistics and losses ------------------------------------------------------------------


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def logsumexp(z):
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m)))


def cross_entropy(logits):
    labels = [2, 0, 1]
    total = 0.0
    for row, label in zip(logits, labels):
        total = total - (row[label] - logsumexp(row))
    return total / len(labels)


def softmax_weighted(z):
    return weighted_sum(softmax(z))


def gaussian_log_likelihood(mu, log_sigma, data):
    sigma = np.exp(log_sigma)
    z = (data - mu) / sigma
    return np.sum(-0.5 * z ** 2 - log_sigma - 0.5 * math.log(2 * math.pi))


def huber(residual, delta=1.0):
    if abs(residual) <= delta:
        return 0.5 * residual ** 2
    else:
        return delta * (abs(residual) - 0.5 * delta)


def huber_loss(w, xs, ys):
    total = 0.0
    for x, y in zip(xs, ys):
        total += huber(w[0] * x + w[1] - y, delta=0.5)
    return total


def vectorised_huber(r):
    a = np.abs(r)
    return np.sum(np.where(a <= 1.0, 0.5 * r ** 2, a - 0.5))


def polynomial_regression_loss(w, x, y):
    """Mean squared error of a polynomial model with a design matrix built column by column."""
    columns = [x ** k for k in range(len(w))]
    X = np.stack(columns, axis=1)
    r = X @ w - y
    return np.mean(r ** 2) + 0.01 * np.sum(w ** 2)


def gradient_descent_unrolled(a, b):
    """Minimise ``(x - a)**2 + b x**4`` by k steps of gradient descent; return the final loss."""
    x = 0.0
    lr = 0.1
    for _ in range(12):
        grad = 2 * (x - a) + 4 * b * x ** 3
        x = x - lr * grad
    return (x - a) ** 2 + b * x ** 4


def conjugate_gradient(lam, X, y):
    """Ridge regression weights by a fixed number of conjugate-gradient steps."""
    A = X.T @ X + lam * np.eye(X.shape[1])
    b = X.T @ y
    w = np.zeros(X.shape[1])
    r = b - A @ w
    p = r
    for _ in range(X.shape[1]):
        Ap = A @ p
        alpha = (r @ r) / (p @ Ap)
        w = w + alpha * p
        r_new = r - alpha * Ap
        p = r_new + (r_new @ r_new) / (r @ r) * p
        r = r_new
    return weighted_sum(w)


def attention(q, K, V):
    """Scaled dot-product attention for one query: a weighted average of value rows."""
    scores = K @ q / math.sqrt(len(q))
    weights = softmax(scores)
    return weighted_sum(weights @ V)


def standardise_columns(X):
    mean = X.mean(axis=0)
    std = np.sqrt(((X - mean) ** 2).mean(axis=0) + 1e-3)
    return weighted_sum((X - mean) / std)


def row_normalise(X):
    norms = np.sqrt(np.sum(X * X, axis=1, keepdims=True))
    return weighted_sum(X / norms)


def clipped_relu_net(x, W):
    h = np.maximum(W @ x, 0.0)
    h = np.clip(h, 0.0, 2.0)
    return weighted_sum(h) + np.sum(x ** 2)


# -- model code -----------------------------------------------------------------------------


class MLP:
    """A two-layer perceptron with tanh hidden units."""

    def __init__(self, W1, b1, W2, b2):
        self.W1 = W1
        self.b1 = b1
        self.W2 = W2
        self.b2 = b2

    def hidden(self, x):
        return np.tanh(self.W1 @ x + self.b1)

    def __call__(self, x):
        return self.W2 @ self.hidden(x) + self.b2

    def loss(self, x, target):
        return np.sum((self(x) - target) ** 2)


def mlp_loss(model, x):
    return model.loss(x, np.array([0.5, -0.2]))


def mlp_batch(model, xs):
    outputs = [model(x) for x in xs]
    return sum(weighted_sum(y, seed=i) for i, y in enumerate(outputs))


class RNNCell:
    def __init__(self, Wx, Wh):
        self.Wx = Wx
        self.Wh = Wh

    def __call__(self, h, x):
        return np.tanh(self.Wx @ x + self.Wh @ h)


def rnn_unrolled(cell, inputs):
    h = np.zeros(cell.Wh.shape[0])
    outputs = []
    for x in inputs:
        h = cell(h, x)
        outputs.append(h)
    return sum(weighted_sum(o, seed=t) for t, o in enumerate(outputs))


class Polynomial:
    """A polynomial whose call is Horner's rule and whose derivative coefficients are a property."""

    def __init__(self, coeffs):
        self.coeffs = coeffs

    def __call__(self, x):
        return self.evaluate(self.coeffs, x)

    @staticmethod
    def evaluate(coeffs, x):
        y = 0.0
        for c in coeffs[::-1]:
            y = y * x + c
        return y

    @property
    def derivative_coeffs(self):
        return [k * c for k, c in enumerate(self.coeffs)][1:]

    def slope(self, x):
        return self.evaluate(self.derivative_coeffs, x)


def polynomial_object(p, x):
    return p(x) + 0.5 * p.slope(x)


def params_dict_model(w, b, x):
    params = {"w": w, "b": b}
    params["scale"] = 2.0 * w
    z = params["w"] * x + params["b"]
    for key in ["w", "scale"]:
        z = z + 0.1 * params[key]
    return weighted_sum(np.tanh(z))


def layer_list(x, W1, W2):
    layers = [lambda h: np.tanh(W1 @ h), lambda h: W2 @ h, np.sin]
    for layer in layers:
        x = layer(x)
    return weighted_sum(x)


def batch_linear_broadcast(X, w, b):
    """Rows of ``X`` against a weight row and a column bias: broadcasting both ways."""
    col_bias = b[:, None]
    Y = X * w[None, :] + col_bias
    return weighted_sum(Y.sum(axis=1)) + np.sum(Y.max(axis=0))


# -- recursion ------------------------------------------------------------------------------


def recursive_sum(xs):
    if len(xs) == 0:
        return 0.0
    return xs[0] + recursive_sum(xs[1:])


def recursive_product(xs):
    if len(xs) == 1:
        return xs[0]
    half = len(xs) // 2
    return recursive_product(xs[:half]) * recursive_product(xs[half:])


def list_sum_and_product(xs):
    return recursive_sum(xs) + recursive_product(xs)


def power_by_squaring(x, n):
    if n == 0:
        return 1.0
    if n % 2 == 0:
        half = power_by_squaring(x, n // 2)
        return half * half
    return x * power_by_squaring(x, n - 1)


def power_recursive(x):
    return power_by_squaring(x, 11)


def float_fib(x, n):
    if n <= 1:
        return x
    return float_fib(x, n - 1) + 0.5 * math.sin(float_fib(x, n - 2))


def recursive_fib(x):
    return float_fib(x, 7)


def is_even_weight(x, n):
    if n == 0:
        return x
    return is_odd_weight(x * 1.1, n - 1)


def is_odd_weight(x, n):
    if n == 0:
        return -x
    return is_even_weight(math.sin(x) + x, n - 1)


def mutual_recursion(x):
    return is_even_weight(x, 5) + is_odd_weight(x, 4)


def recursive_array_tree(x, depth):
    if depth == 0:
        return np.sin(x)
    left = recursive_array_tree(x * 0.9, depth - 1)
    right = recursive_array_tree(x[::-1], depth - 1)
    return left * right + x


def tree_recursion(x):
    return weighted_sum(recursive_array_tree(x, 3))


def ackermann_like(x, m):
    """Nested recursion in the argument position."""
    if m == 0:
        return x + 1.0
    return ackermann_like(ackermann_like(x, m - 1) * 0.5, m - 1)


def nested_recursion(x):
    return ackermann_like(x, 3)


# -- language constructs --------------------------------------------------------------------


def piecewise(x):
    if x < -1.0:
        y = -x - 0.5
    elif x < 0.0:
        y = 0.5 * x * x
    elif x < 2.0:
        y = math.sin(x)
    else:
        y = math.log(x)
    return y * y


def piecewise_all(xs):
    return sum(piecewise(x) for x in xs)


def append_and_sum(x):
    terms = []
    for i in range(6):
        terms.append(x ** i / math.factorial(i))
    total = 0.0
    for t in terms:
        total += t
    return total


def tuple_swap(a, b):
    for i in range(5):
        a, b = b * 0.9, a + math.sin(b)
        if i % 2:
            a, b = b, a
    return a * b


def enumerate_zip_reversed(xs, ys):
    s = 0.0
    for i, (x, y) in enumerate(zip(xs, reversed(ys))):
        s = s + (i + 1) * x * y
    return s


def closures(x, y):
    def make_scaled(scale):
        def scaled(t):
            return scale * t * t + y
        return scaled

    f = make_scaled(x)
    g = make_scaled(2.0)
    return f(y) + g(x)


def closure_counter(x):
    """A closure that reads a variable of the enclosing function updated by a loop."""
    acc = x

    def bump(t):
        return t + acc * 0.5

    total = 0.0
    for _ in range(3):
        total = bump(total) * 1.2
    return total


def higher_order_map(xs):
    squares = list(map(lambda t: t * t, xs))
    sines = list(map(math.sin, xs))
    return sum(squares) + sum(sines)


def apply_twice(f, x):
    return f(f(x))


def compose(f, g):
    return lambda t: f(g(t))


def higher_order(x):
    h = compose(math.tanh, lambda t: 3 * t)
    return apply_twice(h, x) + apply_twice(lambda t: t * t + 1, x)


def fold(f, items, initial):
    acc = initial
    for item in items:
        acc = f(acc, item)
    return acc


def fold_sum(xs):
    return fold(lambda a, b: a * 0.5 + b * b, xs, 1.0)


def list_comprehension(x):
    values = [math.sin(k * x) for k in range(1, 5) if k != 2]
    pairs = [(v, v * v) for v in values]
    return sum(a + 0.5 * b for a, b in pairs)


def dict_building(w):
    table = {}
    for i, name in enumerate(["a", "b", "c"]):
        table[name] = w[i] * (i + 1)
    return table["a"] * table["c"] + math.exp(table["b"])


def dict_iteration(a, b):
    params = {"a": a, "b": b}
    total = 0.0
    for name, value in params.items():
        if name == "a":
            total += value ** 2
        else:
            total += math.cos(value)
    for value in params.values():
        total += 0.1 * value
    return total


def item_assignment_loop(x):
    y = np.zeros(len(x))
    for i in range(len(x)):
        y[i] = x[i] * (i + 1)
        if i > 0:
            y[i] = y[i] + y[i - 1] * 0.5
    return weighted_sum(y)


def cumulative_sum_loop(x):
    out = np.zeros_like(x)
    running = 0.0
    for i, xi in enumerate(x):
        running = running + xi
        out[i] = running * running
    return weighted_sum(out)


def column_updates(X):
    Y = X.copy()
    Y[:, 0] += 1.0
    Y[:, 1] *= Y[:, 0]
    Y[0, :] = np.sin(Y[0, :])
    return weighted_sum(Y)


def slicing_and_fancy(x):
    idx = np.array([3, 0, 3, 1])
    a = x[1:4] * x[:3]
    b = x[idx]
    c = x[::2]
    return weighted_sum(a) + weighted_sum(b, seed=1) + np.sum(c ** 3) + x[-1] * x[0]


def augmented_assignments(x, y):
    z = x
    z += y
    z *= x
    z -= 0.5 * y
    z /= 1.0 + y * y
    z **= 2
    return z


def matrix_vector(A, x):
    y = A @ x
    z = A.T @ y
    return weighted_sum(z) + x @ A.T @ A @ x * 0.1


def reductions_with_axis(X):
    col = X.sum(axis=0)
    row = np.max(X, axis=1)
    mean = np.mean(X, axis=1, keepdims=True)
    return weighted_sum(col) + weighted_sum(row, seed=1) + weighted_sum(X - mean, seed=2)


def where_and_maximum(x, y):
    z = np.where(x > y, x * y, x - y)
    m = np.maximum(x, 0.2 * y)
    return weighted_sum(z) + weighted_sum(m, seed=1)


class Smoother:
    """A plain class with ``__call__`` and a method that calls it."""

    def __init__(self, alpha):
        self.alpha = alpha

    def __call__(self, xs):
        s = xs[0]
        for x in xs[1:]:
            s = self.alpha * x + (1 - self.alpha) * s
        return s

    def residual(self, xs):
        return sum((x - self(xs)) ** 2 for x in xs)


def smoother(s, xs):
    return s.residual(xs)


class Accumulator:
    def __init__(self):
        self.total = 0.0
        self.count = 0

    def add(self, value):
        self.total = self.total + value
        self.count += 1

    @property
    def mean(self):
        return self.total / self.count


def accumulator_object(xs):
    acc = Accumulator()
    for x in xs:
        if x > 0:
            acc.add(x * x)
        else:
            acc.add(-x)
    return acc.mean


def keyword_and_default(x, y):
    def scaled(a, b=2.0, *, shift=0.0):
        return a * b + shift

    return scaled(x) + scaled(x, y) + scaled(y, b=x, shift=x * y)


def star_args(x, y, z):
    def total(*terms):
        s = 0.0
        for t in terms:
            s = s + t * t
        return s

    return total(x, y, z) + total(x, 2.0 * y) + total()


def nested_loops_break_continue(x):
    s = 0.0
    for i in range(5):
        if i == 3:
            continue
        for j in range(5):
            if j > i:
                break
            s = s + math.sin(x * (i + 1)) * (j + 1)
    return s


def early_return_loop(xs):
    acc = 1.0
    for x in xs:
        acc = acc * (1.0 + x)
        if acc > 5.0:
            return acc * 2.0
    return acc


def conditional_expression(xs):
    return sum(x * x if x > 0 else math.exp(x) for x in xs)


def while_with_data_dependent_exit(x):
    y = x
    steps = 0
    while y < 100.0 and steps < 50:
        y = y * 1.7 + 0.3
        steps += 1
    return y / steps


def nested_tuples(x, y):
    pair = ((x, y), (y * 2, x * 3))
    (a, b), (c, d) = pair
    return a * d - b * c


def string_dispatch(x):
    def act(name, t):
        if name == "tanh":
            return math.tanh(t)
        elif name == "square":
            return t * t
        return t

    out = x
    for name in ["tanh", "square", "identity", "tanh"]:
        out = act(name, out) + 0.1 * x
    return out


def min_max_builtins(xs):
    return max(xs) * min(xs) + abs(xs[0] - xs[1])


def numpy_builtins_mix(x):
    parts = [np.sum(x[:2]), np.prod(x[1:]), float(np.dot(x, x))]
    return sum(parts) + np.linalg.norm(x)


def rpn_evaluate(tokens, x, y):
    """Evaluate a reverse-Polish expression over the variables ``x`` and ``y`` with a list as stack."""
    stack = []
    for token in tokens:
        if token == "x":
            stack.append(x)
        elif token == "y":
            stack.append(y)
        elif token == "sin":
            stack[-1] = math.sin(stack[-1])
        else:
            a, b = stack[-2], stack[-1]
            stack = stack[:-2]
            if token == "+":
                stack.append(a + b)
            elif token == "*":
                stack.append(a * b)
            else:
                stack.append(a - b)
    return stack[0]


def rpn(x, y):
    return rpn_evaluate(["x", "y", "*", "sin", "x", "+", "y", "y", "*", "-"], x, y)


class Shape:
    def __init__(self, scale):
        self.scale = scale

    def area(self, r):
        return r * r * self.scale

    def describe(self, r):
        return self.area(r) + 0.1 * r


class Circle(Shape):
    def area(self, r):
        return math.pi * super().area(r)


def inheritance(shape, r):
    return shape.describe(r) * 2.0


def flagged_break(xs):
    total = 0.0
    found_outlier = False
    for x in xs:
        if x > 10.0:
            total = -x
            found_outlier = True
            break
        total += x * x
    if not found_outlier:
        total = total * 2.0
    return total


def local_recursive_helper(x):
    def depth_sum(t, n):
        if n == 0:
            return t
        return t + depth_sum(math.sin(t), n - 1)

    return depth_sum(x, 5)


def star_unpacking(xs):
    first, *rest = xs
    head, tail = rest[0], rest[1:]
    return first * head + sum(tail)


ACTIVATIONS = {"tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "identity": lambda z: z}


def activation_table(x):
    out = 0.0
    for i, name in enumerate(["tanh", "sigmoid", "identity"]):
        out = out + (i + 1) * ACTIVATIONS[name](x * 0.5)
    return weighted_sum(out)


def kalman_1d(q, r, observations):
    """A scalar Kalman filter; the result is the final mean plus the log-likelihood-like sum."""
    mean, var = 0.0, 1.0
    score = 0.0
    for z in observations:
        var = var + q
        gain = var / (var + r)
        innovation = z - mean
        score = score - 0.5 * innovation ** 2 / (var + r) - 0.5 * math.log(var + r)
        mean = mean + gain * innovation
        var = (1 - gain) * var
    return mean + score


def lennard_jones(positions):
    """Energy of particles on a line with pairwise soft Lennard-Jones interactions."""
    n = len(positions)
    energy = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            r2 = (positions[i] - positions[j]) ** 2 + 0.5
            inv6 = 1.0 / r2 ** 3
            energy += 4.0 * (inv6 * inv6 - inv6)
    return energy


def adam_unrolled(a, x0):
    """Minimise ``Σ a_i (x_i - 1)^4 + x_i^2`` with six Adam steps; return the final loss."""
    m = np.zeros_like(x0)
    v = np.zeros_like(x0)
    x = x0
    beta1, beta2, lr = 0.9, 0.99, 0.1
    for t in range(1, 7):
        g = 4 * a * (x - 1) ** 3 + 2 * x
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        x = x - lr * m_hat / (np.sqrt(v_hat) + 1e-8)
    return np.sum(a * (x - 1) ** 4 + x ** 2)


def trimmed_mean(xs):
    ordered = sorted(xs)
    kept = ordered[1:-1]
    return sum(kept) / len(kept)


def matrix_from_lists(a, b):
    R = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    S = np.array([[b, 0.0], [0.0, 1.0 / b]])
    v = R @ S @ np.array([1.0, 2.0])
    return weighted_sum(v)


# -- the corpus -----------------------------------------------------------------------------

CORPUS = [
    ("newton_sqrt", newton_sqrt, (2.3,)),
    ("newton_cubic_root", newton_cubic_root, (1.7,)),
    ("horner", horner, ([0.3, -1.2, 0.5, 0.25], 0.8)),
    ("horner_array", horner_array, (vec(4), vec(5))),
    ("trapezoid", trapezoid, (0.7, 1.3)),
    ("simpson", simpson, (1.3, 2.0)),
    ("euler_logistic", euler_logistic, (0.8, 2.5)),
    ("damped_oscillator_rk4", damped_oscillator_rk4, (2.0, 0.3)),
    ("rk4_vector", rk4_vector, (np.array([1.5, 0.2]), np.array([1.0, -0.5]))),
    ("bisection_root", bisection_root, (2.0,)),
    ("taylor_exp", taylor_exp, (1.3,)),
    ("taylor_sin_with_break", taylor_sin_with_break, (0.9,)),
    ("continued_fraction", continued_fraction, (0.6,)),
    ("fib_recurrence", fib_recurrence, (0.4, 0.7)),
    ("chebyshev_sum", chebyshev_sum, ([0.5, -0.3, 0.8, 0.1, -0.2], 0.35)),
    ("power_iteration", power_iteration, (mat(3, 3) + 3 * np.eye(3),)),
    ("fixed_point_cos", fixed_point_cos, (0.8,)),
    ("gauss_seidel", gauss_seidel, (mat(3, 3) * 0.3 + 3 * np.eye(3), vec(3))),
    ("projectile_with_drag", projectile_with_drag, (12.0, 0.05)),
    ("spring_chain", spring_chain, (1.3, np.array([0.0, 1.2, 1.9, 3.3]))),
    ("predator_prey", predator_prey, (1.1, 0.6)),
    ("heat_equation", heat_equation, (vec(6), 0.2)),
    ("particle_in_well", particle_in_well, (Particle(0.8, 1.5), vec(3))),
    ("logsumexp", logsumexp, (vec(5),)),
    ("cross_entropy", cross_entropy, (mat(3, 4),)),
    ("softmax_weighted", softmax_weighted, (vec(5),)),
    ("gaussian_log_likelihood", gaussian_log_likelihood, (0.3, -0.2, vec(6))),
    ("huber_loss", huber_loss, (np.array([0.8, -0.1]), [0.1, 0.5, 1.5, -2.0], [0.3, 0.1, 2.5, 0.4])),
    ("vectorised_huber", vectorised_huber, (np.array([0.3, -1.7, 2.2, -0.4]),)),
    ("polynomial_regression_loss", polynomial_regression_loss, (vec(3), vec(8), vec(8))),
    ("gradient_descent_unrolled", gradient_descent_unrolled, (1.2, 0.3)),
    ("conjugate_gradient", conjugate_gradient, (0.5, mat(6, 3), vec(6))),
    ("attention", attention, (vec(4), mat(5, 4), mat(5, 3))),
    ("standardise_columns", standardise_columns, (mat(5, 3),)),
    ("row_normalise", row_normalise, (mat(3, 4),)),
    ("clipped_relu_net", clipped_relu_net, (vec(3), mat(5, 3))),
    ("mlp_loss", mlp_loss, (MLP(mat(4, 3), vec(4), mat(2, 4), vec(2)), vec(3))),
    ("mlp_batch", mlp_batch, (MLP(mat(4, 3), vec(4), mat(2, 4), vec(2)), [vec(3), vec(3)])),
    ("rnn_unrolled", rnn_unrolled, (RNNCell(mat(3, 2), mat(3, 3) * 0.5), [vec(2), vec(2), vec(2)])),
    ("polynomial_object", polynomial_object, (Polynomial(np.array([0.5, -1.0, 0.3, 0.2])), 0.7)),
    ("params_dict_model", params_dict_model, (vec(3), vec(3), vec(3))),
    ("layer_list", layer_list, (vec(3), mat(4, 3), mat(2, 4))),
    ("batch_linear_broadcast", batch_linear_broadcast, (mat(3, 4), vec(4), vec(3))),
    ("list_sum_and_product", list_sum_and_product, ([0.5, 1.3, -0.7, 0.9, 1.1],)),
    ("power_recursive", power_recursive, (1.07,)),
    ("recursive_fib", recursive_fib, (0.6,)),
    ("mutual_recursion", mutual_recursion, (0.3,)),
    ("tree_recursion", tree_recursion, (vec(3),)),
    ("nested_recursion", nested_recursion, (0.4,)),
    ("piecewise_all", piecewise_all, ([-1.7, -0.4, 0.9, 3.1],)),
    ("append_and_sum", append_and_sum, (0.9,)),
    ("tuple_swap", tuple_swap, (0.3, 0.8)),
    ("enumerate_zip_reversed", enumerate_zip_reversed, ([0.1, 0.2, 0.3], [1.5, -0.5, 0.25])),
    ("closures", closures, (0.7, 1.4)),
    ("closure_counter", closure_counter, (0.9,)),
    ("higher_order_map", higher_order_map, ([0.2, -1.1, 0.7],)),
    ("higher_order", higher_order, (0.3,)),
    ("fold_sum", fold_sum, ([0.5, -0.2, 1.1, 0.8],)),
    ("list_comprehension", list_comprehension, (0.45,)),
    ("dict_building", dict_building, (np.array([0.3, -0.4, 0.9]),)),
    ("dict_iteration", dict_iteration, (0.7, 1.9)),
    ("item_assignment_loop", item_assignment_loop, (vec(5),)),
    ("cumulative_sum_loop", cumulative_sum_loop, (vec(5),)),
    ("column_updates", column_updates, (mat(3, 2),)),
    ("slicing_and_fancy", slicing_and_fancy, (vec(5),)),
    ("augmented_assignments", augmented_assignments, (0.8, 1.3)),
    ("matrix_vector", matrix_vector, (mat(3, 4), vec(4))),
    ("reductions_with_axis", reductions_with_axis, (mat(3, 4),)),
    ("where_and_maximum", where_and_maximum, (vec(5), vec(5))),
    ("smoother", smoother, (Smoother(0.35), [0.4, 1.2, -0.3, 0.8])),
    ("accumulator_object", accumulator_object, ([0.4, -1.2, 0.8, -0.1],)),
    ("keyword_and_default", keyword_and_default, (0.6, -1.1)),
    ("star_args", star_args, (0.2, 0.5, -0.9)),
    ("nested_loops_break_continue", nested_loops_break_continue, (0.7,)),
    ("early_return_loop", early_return_loop, ([0.5, 0.9, 1.4, 2.0],)),
    ("early_return_loop_no_exit", early_return_loop, ([0.1, 0.2, 0.1],)),
    ("conditional_expression", conditional_expression, ([0.5, -0.7, 1.2],)),
    ("while_with_data_dependent_exit", while_with_data_dependent_exit, (1.3,)),
    ("nested_tuples", nested_tuples, (0.6, -0.3)),
    ("string_dispatch", string_dispatch, (0.5,)),
    ("min_max_builtins", min_max_builtins, ([0.3, 1.4, -0.6],)),
    ("rpn", rpn, (0.7, -0.4)),
    ("inheritance", inheritance, (Circle(0.8), 0.6)),
    ("flagged_break_no_break", flagged_break, ([0.5, 1.5, -0.3],)),
    ("flagged_break_break", flagged_break, ([0.5, 11.5, -0.3],)),
    ("local_recursive_helper", local_recursive_helper, (0.9,)),
    ("star_unpacking", star_unpacking, ([0.5, 1.5, -0.3, 0.8],)),
    ("activation_table", activation_table, (vec(3),)),
    ("kalman_1d", kalman_1d, (0.1, 0.5, [0.3, 0.8, 0.5, 1.1])),
    ("lennard_jones", lennard_jones, ([0.0, 1.1, 2.3, 2.9],)),
    ("adam_unrolled", adam_unrolled, (np.array([0.5, 1.5]), np.array([0.2, -0.4]))),
    ("trimmed_mean", trimmed_mean, ([0.5, 1.5, -0.3, 0.8, 2.5],)),
    ("matrix_from_lists", matrix_from_lists, (0.4, 1.3)),
    ("numpy_builtins_mix", numpy_builtins_mix, (np.array([0.5, 1.2, -0.8]),)),
]
