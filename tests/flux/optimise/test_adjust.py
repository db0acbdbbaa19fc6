"""Tests for flux.optimise.adjust: adjust, freeze and thaw of state trees, and fused steps after them."""

import numpy as np
import pytest

import zygote
from flux import (Adam, Chain, ClipGrad, Dense, Descent, Fused, Momentum, OptimiserChain,
                  WeightDecay, adjust, freeze, params, setup, thaw, update)


def model_and_loss():
    model = Chain(Dense(3, 4, rng=0), Dense(4, 2, rng=1))
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    return model, lambda m: np.mean(m(x) ** 2)


def copies(model):
    return [p.copy() for p in params(model)]


def test_freeze_keeps_a_layer_and_its_state_while_the_rest_trains():
    model, loss = model_and_loss()
    state = setup(Momentum(0.1, 0.9), model)
    before = copies(model)
    freeze(state["layers"][0])
    velocity = state["layers"][0]["weight"].state.copy()
    for _ in range(2):
        state, model = update(state, model, zygote.gradient(loss, model)[0])
    after = copies(model)
    np.testing.assert_array_equal(after[0], before[0])
    np.testing.assert_array_equal(after[1], before[1])
    assert not np.allclose(after[2], before[2]) and not np.allclose(after[3], before[3])
    np.testing.assert_array_equal(state["layers"][0]["weight"].state, velocity)


def test_thaw_lets_the_layer_train_again():
    model, loss = model_and_loss()
    state = freeze(setup(Descent(0.1), model))
    before = copies(model)
    update(state, model, zygote.gradient(loss, model)[0])
    assert all(np.array_equal(a, b) for a, b in zip(copies(model), before))
    thaw(state["layers"][1])
    update(state, model, zygote.gradient(loss, model)[0])
    after = copies(model)
    np.testing.assert_array_equal(after[0], before[0])
    assert not np.allclose(after[2], before[2])


def test_freeze_wants_part_of_a_state_tree():
    model, _ = model_and_loss()
    with pytest.raises(ValueError, match="part of the state"):
        freeze(model)


def test_adjust_sets_eta_in_every_rule_and_keeps_the_original():
    model, _ = model_and_loss()
    opt = Adam(0.1)
    state = setup(opt, model)
    adjust(state, 0.01)
    rules = {id(leaf.rule) for leaf in [state["layers"][0]["weight"], state["layers"][1]["bias"]]}
    assert len(rules) == 1 and state["layers"][0]["weight"].rule.eta == 0.01
    assert opt.eta == 0.1   # the optimiser passed to setup is not changed


def test_adjust_reaches_into_chains_and_skips_rules_without_the_name():
    state = setup(OptimiserChain(WeightDecay(0.1), ClipGrad(1.0), Adam(0.1)), {"w": np.zeros(2)})
    adjust(state, eta=0.5, delta=2.0)
    decay, clip, adam = state["w"].rule.opts
    assert (decay.decay, clip.delta, adam.eta) == (0.1, 2.0, 0.5)


def test_adjust_names_an_unknown_hyperparameter():
    state = setup(Descent(0.1), {"w": np.zeros(2)})
    with pytest.raises(ValueError, match="no rule here has the hyperparameter.*beta"):
        adjust(state, beta=(0.9, 0.9))
    with pytest.raises(ValueError, match="say what to change"):
        adjust(state)
    with pytest.raises(ValueError, match="no optimiser state"):
        adjust({"w": np.zeros(2)}, 0.1)


def test_adjust_an_implicit_style_optimiser_in_place():
    opt = Momentum(0.1, 0.9)
    x = np.zeros(1)
    update(opt, x, np.ones(1))
    assert adjust(opt, 0.2, rho=0.5) is opt and (opt.eta, opt.rho) == (0.2, 0.5)
    update(opt, x, np.ones(1))
    np.testing.assert_allclose(x, [-0.1 - (0.5 * 0.1 + 0.2)])   # the velocity was kept


def test_fused_steps_follow_adjust_and_freeze():
    model, loss = model_and_loss()
    twin, _ = model_and_loss()
    state, twin_state = setup(Adam(0.01), model), setup(Adam(0.01), twin)
    fused = Fused.of(state, model)

    def both_step():
        fused.update(zygote.gradient(loss, model)[0])
        update(twin_state, twin, zygote.gradient(loss, twin)[0])
        for a, b in zip(params(model), params(twin)):
            np.testing.assert_allclose(a, b, rtol=1e-6)

    both_step()
    adjust(state, 0.1)
    adjust(twin_state, 0.1)
    both_step()
    assert fused.rule.eta == 0.1          # the fused step took the adjusted rule
    freeze(state["layers"][0])
    freeze(twin_state["layers"][0])
    frozen = model[0].weight.copy()
    both_step()
    both_step()
    np.testing.assert_array_equal(model[0].weight, frozen)
    thaw(state)
    # The thawed layer has taken fewer Adam steps: the states no longer lie end to end.
    assert not fused.step(np.zeros(sum(p.size for p in params(model)), np.float32))
    assert Fused.of(freeze(setup(Adam(), model)), model) is None


def implicit_step(opt, model, loss):
    ps = params(model)
    update(opt, ps, zygote.gradient(lambda: loss(model), ps))


@pytest.mark.parametrize("part", ["layer", "params", "array"])
def test_implicit_freeze_keeps_the_part_and_its_moments(part):
    model, loss = model_and_loss()
    opt = Adam(0.01)
    implicit_step(opt, model, loss)
    target = {"layer": model[0], "params": params(model[0]), "array": model[0].weight}[part]
    assert freeze(opt, target) is opt
    before, moments = copies(model), opt.state_for(model[0].weight)[0].copy()
    for _ in range(2):
        implicit_step(opt, model, loss)
    after = copies(model)
    np.testing.assert_array_equal(after[0], before[0])
    assert (part == "array") != np.array_equal(after[1], before[1])  # the bias moves unless frozen
    assert not np.allclose(after[2], before[2])
    np.testing.assert_array_equal(opt.state_for(model[0].weight)[0], moments)
    thaw(opt, target)
    implicit_step(opt, model, loss)
    assert not np.allclose(copies(model)[0], before[0])


def test_implicit_thaw_of_everything_and_a_single_array_step():
    model, loss = model_and_loss()
    opt = Descent(0.1)
    freeze(opt, model)
    before = copies(model)
    implicit_step(opt, model, loss)
    update(opt, model[1].weight, np.ones_like(model[1].weight))
    assert all(np.array_equal(a, b) for a, b in zip(copies(model), before))
    thaw(opt)
    implicit_step(opt, model, loss)
    assert not any(np.array_equal(a, b) for a, b in zip(copies(model), before))
    with pytest.raises(TypeError, match="say which part of the model"):
        freeze(opt)
    with pytest.raises(TypeError, match="implicit style, with an optimiser first"):
        freeze(setup(opt, model), model[0])


def test_implicit_freeze_matches_an_untouched_twin_under_fused_steps():
    """A fused implicit step (Adam) must leave a frozen layer exactly as a loop that never
    touches it does, including a freeze made between two steps of the same `Fused`."""
    model, loss = model_and_loss()
    twin, _ = model_and_loss()
    opt, twin_opt = Adam(0.01), Adam(0.01)
    fused = Fused.of(opt, params(model))
    assert fused is not None
    grads = lambda m: zygote.gradient(lambda: loss(m), params(m))   # noqa: E731
    fused.update(grads(model))
    update(twin_opt, params(twin), grads(twin))
    freeze(opt, model[1])
    twin_ps = zygote.Params(list(params(twin))[:2])
    for _ in range(3):
        fused.update(grads(model))
        update(twin_opt, twin_ps, grads(twin))
    for a, b in zip(copies(model), copies(twin)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
