"""The driver: every stage in order, each output the next one's input; the cache asks it on a miss."""
import math

import numpy as np

from zygote.compiler import pipeline
from zygote.compiler.codegen import render
from zygote.protocol import HELPERS, TRANSFORMS


def scaled(x, w):
    y = math.sin(x) * w
    return y + w


def test_stages_hand_each_tree_to_the_next():
    done = pipeline.stages(scaled, "ff", "", HELPERS)
    assert done.parsed.tree is not done.normal_form.tree or not done.parsed.shared
    assert done.normal_form.params == ["x", "w"]
    assert sorted(done.analysis.kind) == ["sin_x", "w", "x", "y", "y_add_w"]
    assert done.transformed.primal.name == "scaled_primal"
    assert done.compiled.primal_code.co_name == "scaled_primal"


def test_copies_are_propagated_in_code_on_numbers_and_on_request():
    on_numbers = render(pipeline.stages(scaled, "ff", "", HELPERS).transformed.adjoint)
    on_arrays = render(pipeline.stages(scaled, "nn", "", HELPERS).transformed.adjoint)
    forced = render(pipeline.stages(scaled, "nn", "", HELPERS, simplify=True).transformed.adjoint)
    assert "dy_add_w" not in on_numbers and "dy_add_w" in on_arrays and "dy_add_w" not in forced


def test_the_cache_builds_through_the_pipeline(monkeypatch):
    built = []
    original = pipeline.stages

    def counting(fn, *args, **kwargs):
        built.append(fn)
        return original(fn, *args, **kwargs)
    monkeypatch.setattr(pipeline, "stages", counting)

    def fresh(x):
        return np.sum(x * x)
    entry = TRANSFORMS.entry_for(fresh, "n", "")
    assert built == [fresh]
    assert TRANSFORMS.entry_for(fresh, "n", "") is entry and built == [fresh]
