"""Tests for flux.layers.recurrent: cells and sequence layers against numpy and central differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zygote
import flux
from flux import (GRU, LSTM, RNN, Chain, Dense, GRUCell, LSTMCell, RNNCell, f64, fmap, params,
                  relu, tanh)
from zygote.testing import check_grad as check_directions, weighted_sum

LAYERS = {RNN: RNNCell, LSTM: LSTMCell, GRU: GRUCell}


def normal(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def reference_step(cell, x, state):
    """One step written straight from the textbook equations, gate by gate."""
    H = cell.hidden
    Wi, Wh, b = cell.weight_ih, cell.weight_hh, cell.bias
    if isinstance(cell, LSTMCell):
        h, c = state
        gate = [x @ Wi[k * H:(k + 1) * H].T + h @ Wh[k * H:(k + 1) * H].T + b[k * H:(k + 1) * H]
                for k in range(4)]
        c_new = sigmoid(gate[1]) * c + sigmoid(gate[0]) * np.tanh(gate[2])
        h_new = sigmoid(gate[3]) * np.tanh(c_new)
        return (h_new, c_new), h_new
    if isinstance(cell, GRUCell):
        h = state
        part = [(x @ Wi[k * H:(k + 1) * H].T + b[k * H:(k + 1) * H], h @ Wh[k * H:(k + 1) * H].T)
                for k in range(3)]
        r = sigmoid(part[0][0] + part[0][1])
        z = sigmoid(part[1][0] + part[1][1])
        n = np.tanh(part[2][0] + r * part[2][1])
        h_new = (1 - z) * n + z * h
        return h_new, h_new
    h_new = cell.act(x @ Wi.T + state @ Wh.T + b)
    return h_new, h_new


def random_layer(kind, in_features, hidden, seed=0, dtype=np.float64):
    """A layer with a nonzero bias (so that a bias bug shows), in ``dtype``."""
    layer = kind(in_features, hidden, rng=seed)
    layer.cell.bias = layer.cell.bias + normal(layer.cell.bias.shape, seed + 100) * 0.5
    return fmap(lambda a: a.astype(dtype), layer)


def zero_state(kind, n, hidden):
    h = np.zeros((n, hidden))
    return (h, h) if kind is LSTM else h


# ------------------------------------------------------------ forward ----------

@pytest.mark.parametrize("kind", LAYERS, ids=lambda k: k.__name__)
def test_cell_step_matches_the_equations(kind):
    layer = random_layer(kind, 3, 4)
    x = normal((5, 3), 1)
    state = (normal((5, 4), 2), normal((5, 4), 3)) if kind is LSTM else normal((5, 4), 2)
    got_state, got = layer.cell(x, state)
    want_state, want = reference_step(layer.cell, x, state)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    for a, b in zip(np.atleast_1d(got_state), np.atleast_1d(want_state)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("kind", LAYERS, ids=lambda k: k.__name__)
@pytest.mark.parametrize("steps", [1, 4])
def test_layer_runs_the_cell_along_time(kind, steps):
    layer = random_layer(kind, 3, 4)
    x = normal((2, steps, 3), 4)
    state, outputs = zero_state(kind, 2, 4), []
    for t in range(steps):
        state, y = reference_step(layer.cell, x[:, t], state)
        outputs.append(y)
    np.testing.assert_allclose(layer(x), np.stack(outputs, axis=1), rtol=1e-12, atol=1e-15)


def test_cells_default_to_a_zero_state():
    cell = random_layer(LSTM, 3, 4).cell
    x = normal((2, 3))
    (h, c), y = cell(x)
    (h0, c0), _ = reference_step(cell, x, (np.zeros((2, 4)), np.zeros((2, 4))))
    np.testing.assert_allclose(h, h0) and np.testing.assert_allclose(c, c0)


def test_initial_state_can_be_passed_and_broadcast():
    layer = random_layer(GRU, 2, 3)
    x = normal((4, 5, 2))
    h0 = normal(3, 9)
    np.testing.assert_allclose(layer(x, h0), layer(x, np.tile(h0, (4, 1))), rtol=1e-12)
    assert not np.allclose(layer(x, h0), layer(x))


def test_float32_is_kept_in_outputs_and_gradients():
    for kind in LAYERS:
        layer = kind(3, 4, rng=0)
        x = normal((2, 5, 3)).astype(np.float32)
        assert layer(x).dtype == np.float32
        (g,) = zygote.gradient(lambda m: np.sum(m(x)[:, -1]), layer)
        assert all(a.dtype == np.float32 for a in g["cell"].values()), kind.__name__


def test_initialisation():
    layer = LSTM(3, 5, rng=0)
    cell = layer.cell
    assert cell.weight_ih.shape == (20, 3) and cell.weight_hh.shape == (20, 5)
    assert cell.weight_ih.dtype == np.float32 and cell.bias.dtype == np.float32
    np.testing.assert_array_equal(cell.bias, np.repeat([0.0, 1.0, 0.0, 0.0], 5))  # forget gate 1
    assert np.abs(cell.weight_hh).max() <= np.sqrt(6 / 25)
    assert not np.array_equal(cell.weight_ih[:5, :3], cell.weight_hh[:5, :3])
    np.testing.assert_array_equal(LSTM(3, 5, rng=0).cell.weight_hh, cell.weight_hh)
    assert GRU(2, 3).cell.weight_ih.shape == (9, 2) and not GRU(2, 3).cell.bias.any()
    assert not RNN(2, 3, init=flux.zeros32).cell.weight_ih.any()


def test_repr_str_and_params():
    assert repr(RNN(28, 64)) == "RNN(28 => 64, tanh)"
    assert repr(RNN(2, 3, relu)) == "RNN(2 => 3, relu)"
    assert repr(LSTM(28, 128)) == "LSTM(28 => 128)"
    assert repr(GRU(2, 3)) == "GRU(2 => 3)"
    assert repr(GRUCell(2, 3)) == "GRUCell(2 => 3)"
    assert repr(RNNCell(2, 3)) == "RNNCell(2 => 3, tanh)"
    assert str(LSTM(28, 128)) == "LSTM(28 => 128)  # 80_384 parameters"
    assert len(params(Chain(LSTM(2, 3), Dense(3, 1)))) == 5


def test_conversion_and_saving(tmp_path):
    layer = GRU(2, 3, rng=0)
    wide = f64(layer)
    assert wide.cell.weight_hh.dtype == np.float64 and wide.cell is not layer.cell
    flux.save(tmp_path / "gru.npz", layer)
    other = GRU(2, 3, rng=1)
    flux.load(tmp_path / "gru.npz", other)
    x = normal((1, 4, 2)).astype(np.float32)
    np.testing.assert_array_equal(other(x), layer(x))


def test_errors_name_the_shape_received():
    with pytest.raises(ValueError, match=r"LSTM\(3 => 4\)|LSTMCell\(3 => 4\)"):
        LSTM(3, 4)(np.zeros((2, 5, 2), np.float32))
    with pytest.raises(ValueError, match=r"\(N, T, 3\) \(batch, time, features\).*\(5, 3\)"):
        RNN(3, 4)(np.zeros((5, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(N, 3\).*\(2, 5, 3\)"):
        GRUCell(3, 4)(np.zeros((2, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(2, 0, 3\)"):
        GRU(3, 4)(np.zeros((2, 0, 3), np.float32))


# ------------------------------------------------------------ gradients ----------

@pytest.mark.parametrize("kind", LAYERS, ids=lambda k: k.__name__)
@pytest.mark.parametrize("shape", [(2, 1, 3), (2, 3, 3), (1, 4, 3)], ids=["T1", "T3", "N1"])
def test_layer_gradient_parameters_and_input(kind, shape, check_model_grad, check_grad):
    layer = random_layer(kind, 3, 2, seed=sum(shape))
    x = normal(shape, 5)
    check_model_grad(lambda m: m(x), layer)
    check_grad(lambda x: layer(x), x)


@pytest.mark.parametrize("kind", LAYERS, ids=lambda k: k.__name__)
def test_gradient_through_the_last_step_only(kind, check_model_grad):
    layer = random_layer(kind, 2, 3, seed=1)
    x = normal((2, 5, 2), 6)
    check_model_grad(lambda m: m(x)[:, -1], layer)


@pytest.mark.parametrize("kind", LAYERS, ids=lambda k: k.__name__)
def test_cell_gradient_in_input_and_state(kind, check_model_grad, check_grad):
    cell = random_layer(kind, 3, 2, seed=2).cell
    x = normal((2, 3), 7)
    if kind is LSTM:
        h, c = normal((2, 2), 8), normal((2, 2), 9)
        check_grad(lambda x, h, c: cell(x, (h, c))[0][1] + cell(x, (h, c))[1], x, h, c)
    else:
        check_grad(lambda x, h: cell(x, h)[1], x, normal((2, 2), 8))
    check_model_grad(lambda m: m(x)[1], cell)


@pytest.mark.parametrize("kind", LAYERS, ids=lambda k: k.__name__)
def test_gradient_in_a_broadcast_initial_state(kind):
    layer = random_layer(kind, 2, 3, seed=3)
    x = normal((2, 3, 2), 4)
    if kind is LSTM:
        check_directions(lambda h, c: weighted_sum(layer(x, (h, c))), normal(3, 1), normal(3, 2))
    else:
        check_directions(lambda h: weighted_sum(layer(x, h)), normal(3, 1))


def test_chain_classifier_gradient(check_model_grad):
    model = f64(Chain(LSTM(3, 4, rng=0), lambda h: h[:, -1], Dense(4, 2, rng=1)))
    x = normal((3, 4, 3), 2)
    grads = check_model_grad(lambda m: flux.logitcrossentropy(m(x), np.eye(2)[[0, 1, 1]]), model)
    assert set(grads["layers"][0]["cell"]) >= {"weight_ih", "weight_hh", "bias"}


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(list(LAYERS)), st.integers(1, 3), st.integers(1, 5), st.integers(1, 3),
       st.integers(1, 4))
def test_gradient_property(kind, batch, steps, in_features, hidden):
    layer = random_layer(kind, in_features, hidden, seed=steps)
    x = normal((batch, steps, in_features), batch)
    check_directions(lambda x: weighted_sum(layer(x)), x)
    (g,) = zygote.gradient(lambda m: weighted_sum(m(x)), layer)
    direction = normal(layer.cell.weight_hh.shape, 11)

    def moved(t):
        shifted = fmap(lambda a: a, layer)
        shifted.cell.weight_hh = layer.cell.weight_hh + t * direction
        return weighted_sum(shifted(x))
    difference = (moved(1e-6) - moved(-1e-6)) / 2e-6
    np.testing.assert_allclose(np.sum(g["cell"]["weight_hh"] * direction), difference,
                               rtol=1e-5, atol=1e-8)
