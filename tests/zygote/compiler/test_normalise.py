"""Stage 3, normalise: a validated tree in, its A-normal form out (one operation per statement,
structured control flow, one final return)."""
from zygote.compiler.codegen import render
from zygote.compiler.normalise import normalise
from zygote.compiler.parse import parse_function
from zygote.compiler.validate import validate


def normal_form_text(fn):
    return render(normalise(validate(parse_function(fn)), {"math", "np"}).tree)


def countdown(x, n):
    while n > 0:
        x = x * 2.0
        n = n - 1
    return x


def within(x, lo, hi):
    return lo < x < hi


def positive_squares(xs):
    return [v * v for v in xs if v > 0]


def first_negative(xs):
    for v in xs:
        if v < 0:
            return v
    return 0.0


def test_while_becomes_while_true_with_a_test_and_break():
    assert normal_form_text(countdown) == '''def countdown(x, n):
    while True:
        cond = n > 0
        if cond:
            x_mul_2_0 = x * 2.0
            x = x_mul_2_0
            n_sub_1 = n - 1
            n = n_sub_1
        else:
            break
    return x
'''


def test_a_chained_comparison_becomes_an_if_chain():
    assert normal_form_text(within) == '''def within(x, lo, hi):
    cond = lo < x
    if cond:
        cond = x < hi
    return cond
'''


def test_a_comprehension_becomes_a_loop_over_the_materialised_sequence():
    assert normal_form_text(positive_squares) == '''def positive_squares(xs):
    items = []
    xs_items = iterate(xs)
    for v_1 in xs_items:
        cond = v_1 > 0
        if cond:
            v_1_mul_v_1 = v_1 * v_1
            list_append_items = list_append(items, v_1_mul_v_1)
            items = list_append_items
    return items
'''


def test_a_return_inside_a_loop_becomes_a_flag_a_break_and_one_final_return():
    assert normal_form_text(first_negative) == '''def first_negative(xs):
    result = None
    xs_items = iterate(xs)
    returned = False
    for v in xs_items:
        cond = v < 0
        if cond:
            return_value = v
            returned = True
            break
    if returned:
        result = return_value
    else:
        result = 0.0
    return result
'''
    nf = normalise(validate(parse_function(first_negative)))
    assert nf.params == ["xs"] and set(nf.helpers.values()) == {"iterate"}
