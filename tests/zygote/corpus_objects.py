"""Realistic programs built on objects: classes with operator methods, dataclass states,
namedtuples of parameters, objects that keep running state; each is one corpus entry.

``OBJECTS`` lists ``(name, function, args)`` as ``corpus_functions.CORPUS`` does; ``SMOOTH``
names those smooth enough to be checked to second order in their first argument.
"""
import collections
import dataclasses
import math

import numpy as np

import zygote

# -- small vector algebra -------------------------------------------------------------------------


class Vec:
    """A 2-d vector with the operator methods physics code uses."""

    __array_ufunc__ = None

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, other):
        return Vec(self.x + other.x, self.y + other.y)

    def __sub__(self, other):
        return Vec(self.x - other.x, self.y - other.y)

    def __mul__(self, s):
        return Vec(self.x * s, self.y * s)

    __rmul__ = __mul__

    def __truediv__(self, s):
        return Vec(self.x / s, self.y / s)

    def __neg__(self):
        return Vec(-self.x, -self.y)

    def __matmul__(self, other):
        return self.x * other.x + self.y * other.y

    def __abs__(self):
        return math.sqrt(self @ self)


def nbody_step(x1, y1, x2, y2):
    """Three bodies, velocity Verlet for a few steps, then the total energy."""
    pos = [Vec(x1, y1), Vec(x2, y2), Vec(-0.5, 0.8)]
    vel = [Vec(0.0, 0.3), Vec(-0.2, 0.0), Vec(0.1, -0.1)]
    mass = [1.0, 0.8, 1.2]
    dt = 0.01

    def forces(pos):
        acc = [Vec(0.0, 0.0) for _ in pos]
        for i in range(3):
            for j in range(3):
                if i != j:
                    d = pos[j] - pos[i]
                    r = abs(d) + 0.1
                    acc[i] = acc[i] + d * (mass[j] / (r * r * r))
        return acc

    acc = forces(pos)
    for _ in range(3):
        pos = [p + v * dt + a * (0.5 * dt * dt) for p, v, a in zip(pos, vel, acc)]
        new = forces(pos)
        vel = [v + (a + b) * (0.5 * dt) for v, a, b in zip(vel, acc, new)]
        acc = new
    kinetic = sum(0.5 * m * (v @ v) for m, v in zip(mass, vel))
    potential = 0.0
    for i in range(3):
        for j in range(i + 1, 3):
            potential = potential - mass[i] * mass[j] / (abs(pos[i] - pos[j]) + 0.1)
    return kinetic + potential


def projectile_vec(speed, angle):
    pos, vel = Vec(0.0, 0.0), Vec(speed * math.cos(angle), speed * math.sin(angle))
    gravity = Vec(0.0, -9.81)
    for _ in range(20):
        drag = vel * (-0.05 * abs(vel))
        vel = vel + (gravity + drag) * 0.02
        pos = pos + vel * 0.02
    return pos.x + 0.3 * pos.y


def line_integral(a, b):
    """Work of the field F(p) = (a y, b x - y) along a parabola, by the midpoint rule."""
    def field(p):
        return Vec(a * p.y, b * p.x - p.y)
    work, n = 0.0, 16
    previous = Vec(0.0, 0.0)
    for k in range(1, n + 1):
        t = k / n
        point = Vec(t, t * t)
        mid = (point + previous) / 2.0
        work = work + field(mid) @ (point - previous)
        previous = point
    return work


def orbit_energy(vx, vy):
    pos, vel = Vec(1.0, 0.0), Vec(vx, vy)
    for _ in range(10):
        r = abs(pos)
        vel = vel - pos * (0.05 / (r * r * r))
        pos = pos + vel * 0.05
    return 0.5 * (vel @ vel) - 1.0 / abs(pos)


def spring_network(k, rest):
    nodes = [Vec(0.0, 0.0), Vec(1.1, 0.1), Vec(0.4, 0.9)]
    energy = 0.0
    for i in range(3):
        for j in range(i + 1, 3):
            stretch = abs(nodes[i] - nodes[j]) - rest
            energy = energy + 0.5 * k * stretch * stretch
    return energy


# -- dataclass states and integrators ---------------------------------------------------------------


@dataclasses.dataclass
class State:
    x: float
    v: float

    def __add__(self, other):
        return State(self.x + other.x, self.v + other.v)

    def __mul__(self, h):
        return State(self.x * h, self.v * h)


def rk4_dataclass(k, c):
    """A damped oscillator's state after RK4 steps, the state a dataclass with operators."""
    def deriv(s):
        return State(s.v, -k * s.x - c * s.v)

    s, h = State(1.0, 0.0), 0.1
    for _ in range(8):
        k1 = deriv(s)
        k2 = deriv(s + k1 * (h / 2))
        k3 = deriv(s + k2 * (h / 2))
        k4 = deriv(s + k3 * h)
        s = s + (k1 + k2 * 2.0 + k3 * 2.0 + k4) * (h / 6)
    return s.x + 0.5 * s.v


@dataclasses.dataclass(frozen=True)
class Predator:
    alpha: float
    beta: float
    delta: float = 0.4
    gamma: float = 0.6


def lotka_volterra_rk2(alpha, beta):
    p = Predator(alpha, beta, 0.4, 0.6)
    prey, pred, h = 1.0, 0.5, 0.05
    for _ in range(10):
        dprey = p.alpha * prey - p.beta * prey * pred
        dpred = p.delta * prey * pred - p.gamma * pred
        mid_prey, mid_pred = prey + 0.5 * h * dprey, pred + 0.5 * h * dpred
        prey = prey + h * (p.alpha * mid_prey - p.beta * mid_prey * mid_pred)
        pred = pred + h * (p.delta * mid_prey * mid_pred - p.gamma * mid_pred)
    return prey + 2.0 * pred


@dataclasses.dataclass
class Pendulum:
    length: float
    theta: float
    omega: float = 0.0

    def step(self, dt):
        self.omega = self.omega - 9.81 / self.length * math.sin(self.theta) * dt
        self.theta = self.theta + self.omega * dt

    def energy(self):
        return 0.5 * (self.length * self.omega) ** 2 + 9.81 * self.length * (1 - math.cos(self.theta))


def pendulum_dataclass(length, theta0):
    p = Pendulum(length, theta0, 0.0)
    for _ in range(15):
        p.step(0.02)
    return p.energy() + p.theta


Oscillator = collections.namedtuple("Oscillator", "x v")


def euler_namedtuple(k, x0):
    s = Oscillator(x0, 0.0)
    for _ in range(12):
        s = Oscillator(s.x + 0.05 * s.v, s.v - 0.05 * (k * s.x + 0.1 * s.v))
    return s.x * s.x + s.v


@dataclasses.dataclass
class Heat:
    kappa: float
    u: np.ndarray


def heat_rod(kappa, u0):
    rod = Heat(kappa, u0 * 1.0)
    for _ in range(5):
        lap = np.concatenate([[0.0], rod.u[:-2] - 2 * rod.u[1:-1] + rod.u[2:], [0.0]])
        rod.u = rod.u + rod.kappa * 0.1 * lap
    return np.sum(rod.u * np.linspace(0.5, 1.5, rod.u.size))


# -- statistics with namedtuples of parameters -------------------------------------------------------

Hyper = collections.namedtuple("Hyper", "lengthscale variance noise")


def gp_log_likelihood(log_l, log_s):
    """A Gaussian process's log marginal likelihood; the hyperparameters a namedtuple."""
    h = Hyper(math.exp(log_l), math.exp(log_s), 0.1)
    x = np.linspace(0.0, 2.0, 5)
    y = np.sin(3.0 * x)
    d = x[:, None] - x[None, :]
    K = h.variance * np.exp(-0.5 * d * d / (h.lengthscale * h.lengthscale)) + h.noise * np.eye(5)
    alpha = np.linalg.solve(K, y)
    sign, logdet = np.linalg.slogdet(K)
    return -0.5 * (y @ alpha) - 0.5 * logdet - 2.5 * math.log(2 * math.pi)


Gaussian = collections.namedtuple("Gaussian", "mu sigma")


def mixture_log_likelihood(mu1, mu2):
    parts = [Gaussian(mu1, 0.7), Gaussian(mu2, 1.2)]
    data = [0.1, 0.9, -0.4, 1.7, 2.2]
    total = 0.0
    for x in data:
        p = 0.0
        for g in parts:
            z = (x - g.mu) / g.sigma
            p = p + 0.5 * math.exp(-0.5 * z * z) / (g.sigma * math.sqrt(2 * math.pi))
        total = total + math.log(p)
    return total


Kalman = collections.namedtuple("Kalman", "mean var")


def kalman_namedtuple(q, r):
    state = Kalman(0.0, 1.0)
    total = 0.0
    for z in [0.3, 0.8, 0.5, 1.1, 0.9]:
        predicted = Kalman(state.mean, state.var + q)
        gain = predicted.var / (predicted.var + r)
        state = Kalman(predicted.mean + gain * (z - predicted.mean), (1 - gain) * predicted.var)
        total = total + (z - state.mean) ** 2
    return total + state.var


# -- polynomials and other algebra ----------------------------------------------------------------------


class Poly:
    """A polynomial by its coefficients, lowest degree first."""

    def __init__(self, coeffs):
        self.coeffs = list(coeffs)

    def __add__(self, other):
        n = max(len(self.coeffs), len(other.coeffs))
        a = self.coeffs + [0.0] * (n - len(self.coeffs))
        b = other.coeffs + [0.0] * (n - len(other.coeffs))
        return Poly([p + q for p, q in zip(a, b)])

    def __mul__(self, other):
        out = [0.0] * (len(self.coeffs) + len(other.coeffs) - 1)
        for i, p in enumerate(self.coeffs):
            for j, q in enumerate(other.coeffs):
                out[i + j] = out[i + j] + p * q
        return Poly(out)

    def __call__(self, x):
        total = 0.0
        for c in reversed(self.coeffs):
            total = total * x + c
        return total

    def derivative(self):
        return Poly([k * c for k, c in enumerate(self.coeffs)][1:])


def polynomial_class(a, b):
    p = Poly([a, b, 1.0])
    q = Poly([1.0, a * b])
    r = p * q + p
    return r(0.7) + r.derivative()(-0.3)


def polynomial_fit_residual(c0, c1):
    p = Poly([c0, c1, 0.5])
    total = 0.0
    for x in np.linspace(-1.0, 1.0, 7):
        total = total + (p(x) - math.cos(x)) ** 2
    return total


class Dual:
    """A number a + b i with complex multiplication, written by hand."""

    def __init__(self, re, im):
        self.re = re
        self.im = im

    def __add__(self, other):
        return Dual(self.re + other.re, self.im + other.im)

    def __mul__(self, other):
        return Dual(self.re * other.re - self.im * other.im, self.re * other.im + self.im * other.re)

    def __abs__(self):
        return math.sqrt(self.re * self.re + self.im * self.im)


def complex_by_hand(a, b):
    z = Dual(a, b)
    w = Dual(1.0, 0.0)
    for _ in range(4):
        w = w * z + Dual(0.1, -0.2)
    return abs(w)


class Matrix2:
    def __init__(self, a, b, c, d):
        self.a, self.b, self.c, self.d = a, b, c, d

    def __matmul__(self, other):
        return Matrix2(self.a * other.a + self.b * other.c, self.a * other.b + self.b * other.d,
                       self.c * other.a + self.d * other.c, self.c * other.b + self.d * other.d)

    def trace(self):
        return self.a + self.d


def matrix2_power(t, s):
    m = Matrix2(math.cos(t), -math.sin(t) * s, math.sin(t), math.cos(t))
    p = m
    for _ in range(3):
        p = p @ m
    return p.trace() + p.b


class Quaternion:
    def __init__(self, w, x, y, z):
        self.w, self.x, self.y, self.z = w, x, y, z

    def __mul__(self, q):
        return Quaternion(self.w * q.w - self.x * q.x - self.y * q.y - self.z * q.z,
                          self.w * q.x + self.x * q.w + self.y * q.z - self.z * q.y,
                          self.w * q.y - self.x * q.z + self.y * q.w + self.z * q.x,
                          self.w * q.z + self.x * q.y - self.y * q.x + self.z * q.w)

    def conjugate(self):
        return Quaternion(self.w, -self.x, -self.y, -self.z)


def quaternion_rotation(angle, tilt):
    half = angle / 2
    q = Quaternion(math.cos(half), math.sin(half) * tilt, math.sin(half), 0.0)
    v = Quaternion(0.0, 1.0, 0.5, -0.3)
    r = q * v * q.conjugate()
    return r.x + 2.0 * r.y - r.z


# -- finance ------------------------------------------------------------------------------------------

Option = collections.namedtuple("Option", "spot strike rate vol expiry")


def normal_cdf(x):
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def black_scholes(spot, vol):
    o = Option(spot, 1.0, 0.02, vol, 0.5)
    d1 = (math.log(o.spot / o.strike) + (o.rate + 0.5 * o.vol ** 2) * o.expiry) / (o.vol * math.sqrt(o.expiry))
    d2 = d1 - o.vol * math.sqrt(o.expiry)
    return o.spot * normal_cdf(d1) - o.strike * math.exp(-o.rate * o.expiry) * normal_cdf(d2)


def option_delta_inside(spot, vol):
    """The delta of the option, a gradient taken inside the function, then a hedge's value."""
    delta = zygote.gradient(black_scholes, spot, vol)[0]
    return delta * spot - black_scholes(spot, vol)


class Account:
    """A loan account that keeps its balance and a history of payments."""

    def __init__(self, balance, rate):
        self.balance = balance
        self.rate = rate
        self.paid = []

    def month(self, payment):
        interest = self.balance * self.rate / 12
        self.balance = self.balance + interest - payment
        self.paid.append(interest)


def loan_amortisation(principal, rate):
    account = Account(principal, rate)
    for _ in range(12):
        account.month(0.09 * principal)
    return account.balance + sum(account.paid)


@dataclasses.dataclass
class Portfolio:
    weights: np.ndarray
    cov: np.ndarray

    def variance(self):
        return self.weights @ self.cov @ self.weights

    def ret(self, mu):
        return self.weights @ mu


def portfolio_sharpe(w, cov_scale):
    cov = cov_scale * np.array([[0.1, 0.02, 0.01], [0.02, 0.08, 0.03], [0.01, 0.03, 0.12]])
    p = Portfolio(w / np.sum(w), cov)
    return p.ret(np.array([0.05, 0.07, 0.06])) / np.sqrt(p.variance())


Bond = collections.namedtuple("Bond", "coupon face years")


def bond_price(y, coupon):
    b = Bond(coupon, 100.0, 5)
    price = 0.0
    for t in range(1, b.years + 1):
        price = price + b.coupon / (1 + y) ** t
    return price + b.face / (1 + y) ** b.years


class Savings:
    def __init__(self):
        self.value = 0.0

    def deposit(self, amount):
        self.value = self.value + amount

    def grow(self, r):
        self.value = self.value * (1 + r)


def compound_growth(rate, contribution):
    s = Savings()
    for _ in range(10):
        s.deposit(contribution)
        s.grow(rate)
    return s.value


# -- models with running state ------------------------------------------------------------------------


class EMA:
    def __init__(self, alpha):
        self.alpha = alpha
        self.value = None

    def update(self, x):
        if self.value is None:
            self.value = x
        else:
            self.value = self.alpha * x + (1 - self.alpha) * self.value
        return self.value


def moving_average(alpha, xs):
    ema = EMA(alpha)
    total = 0.0
    for x in xs:
        total = total + ema.update(x) * x
    return total + ema.value


class RNNCell:
    def __init__(self, w, u):
        self.w, self.u = w, u
        self.h = np.zeros(2)
        self.cache = None

    def __call__(self, x):
        self.h = np.tanh(self.w @ self.h + self.u * x)
        self.cache = self.h
        return self.h


def rnn_state(w, u):
    cell = RNNCell(w, u)
    total = 0.0
    for x in [0.5, -0.3, 0.8]:
        total = total + np.sum(cell(x) * np.array([1.0, -0.5]))
    return total + np.sum(cell.cache ** 2)


class Neuron:
    def __init__(self, w, b):
        self.w, self.b = w, b
        self.last = None

    def forward(self, x):
        self.last = 1.0 / (1.0 + np.exp(-(self.w @ x + self.b)))
        return self.last


def neuron_cache(w, b):
    n = Neuron(w, b)
    y = n.forward(np.array([0.5, -1.0, 2.0]))
    return -math.log(float(n.last)) + 0.1 * float(y)


class Policy:
    def __init__(self, theta):
        self.theta = theta

    def __call__(self, features):
        logits = features @ self.theta
        e = np.exp(logits - np.max(logits))
        return e / np.sum(e)


def softmax_policy(theta, reward_scale):
    policy = Policy(theta)
    features = np.array([[1.0, 0.2], [0.3, 0.8], [-0.5, 0.4]])
    probs = policy(features)
    return reward_scale * np.sum(probs * np.array([1.0, 2.0, 0.5]))


@dataclasses.dataclass
class GDState:
    x: float
    lr: float


def unrolled_descent(x0, lr):
    s = GDState(x0, lr)
    for _ in range(6):
        grad = 4 * s.x ** 3 - 3 * s.x
        s = GDState(s.x - s.lr * grad, s.lr * 0.9)
    return s.x ** 4 - 1.5 * s.x ** 2


class Thermostat:
    """A controller whose integral term is running state."""

    def __init__(self, kp, ki):
        self.kp, self.ki = kp, ki
        self.integral = 0.0

    def control(self, error):
        self.integral = self.integral + error * 0.1
        return self.kp * error + self.ki * self.integral


def pid_control(kp, ki):
    t, target = 15.0, 20.0
    c = Thermostat(kp, ki)
    for _ in range(10):
        t = t + 0.1 * (c.control(target - t) - 0.2 * (t - 10.0))
    return (t - target) ** 2 + c.integral


class Particle:
    __slots__ = ("pos", "vel")

    def __init__(self, pos, vel):
        self.pos = pos
        self.vel = vel


def slotted_particles(v1, v2):
    ps = [Particle(0.0, v1), Particle(1.0, v2)]
    for _ in range(5):
        for p in ps:
            p.vel = p.vel - 0.1 * p.pos
            p.pos = p.pos + 0.1 * p.vel
    return ps[0].pos * ps[1].pos + ps[1].vel


OBJECTS = [
    ("nbody_step", nbody_step, (0.9, 0.1, -0.3, -0.6)),
    ("projectile_vec", projectile_vec, (12.0, 0.7)),
    ("line_integral", line_integral, (0.8, -1.3)),
    ("orbit_energy", orbit_energy, (0.2, 1.1)),
    ("spring_network", spring_network, (3.0, 0.9)),
    ("rk4_dataclass", rk4_dataclass, (2.0, 0.3)),
    ("lotka_volterra_rk2", lotka_volterra_rk2, (1.1, 0.4)),
    ("pendulum_dataclass", pendulum_dataclass, (1.3, 0.5)),
    ("euler_namedtuple", euler_namedtuple, (1.5, 0.8)),
    ("heat_rod", heat_rod, (0.7, np.array([0.0, 0.4, 1.0, 0.3, 0.0]))),
    ("gp_log_likelihood", gp_log_likelihood, (-0.3, 0.2)),
    ("mixture_log_likelihood", mixture_log_likelihood, (0.2, 1.5)),
    ("kalman_namedtuple", kalman_namedtuple, (0.1, 0.5)),
    ("polynomial_class", polynomial_class, (0.4, -1.2)),
    ("polynomial_fit_residual", polynomial_fit_residual, (0.9, 0.1)),
    ("complex_by_hand", complex_by_hand, (0.6, 0.5)),
    ("matrix2_power", matrix2_power, (0.4, 1.3)),
    ("quaternion_rotation", quaternion_rotation, (0.8, 0.6)),
    ("black_scholes", black_scholes, (1.1, 0.25)),
    ("option_delta_inside", option_delta_inside, (1.05, 0.3)),
    ("loan_amortisation", loan_amortisation, (10.0, 0.06)),
    ("portfolio_sharpe", portfolio_sharpe, (np.array([0.3, 0.5, 0.2]), 1.2)),
    ("bond_price", bond_price, (0.04, 5.0)),
    ("compound_growth", compound_growth, (0.05, 1.2)),
    ("moving_average", moving_average, (0.3, [0.5, 1.5, -0.2, 0.9])),
    ("rnn_state", rnn_state, (np.array([[0.5, -0.2], [0.3, 0.8]]), np.array([0.7, -0.4]))),
    ("neuron_cache", neuron_cache, (np.array([0.2, -0.4, 0.3]), 0.1)),
    ("softmax_policy", softmax_policy, (np.array([0.5, -0.3]), 1.5)),
    ("unrolled_descent", unrolled_descent, (1.2, 0.05)),
    ("pid_control", pid_control, (0.8, 0.3)),
    ("slotted_particles", slotted_particles, (0.5, -0.3)),
]

# smooth in their first argument at these points (checked to second order)
SMOOTH = {"projectile_vec", "line_integral", "orbit_energy", "spring_network", "rk4_dataclass",
          "pendulum_dataclass", "euler_namedtuple", "gp_log_likelihood",
          "mixture_log_likelihood", "kalman_namedtuple", "polynomial_fit_residual",
          "complex_by_hand", "matrix2_power", "quaternion_rotation", "black_scholes", "loan_amortisation",
          "bond_price", "compound_growth", "unrolled_descent", "pid_control", "slotted_particles"}
