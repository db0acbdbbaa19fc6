"""The progress bar draws on a terminal and stays out of logs, as tqdm's ``disable=None`` does."""

import io

import numpy as np

import flux
from flux.progress import progress_bar


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_an_automatic_bar_is_off_when_the_stream_is_not_a_terminal():
    assert progress_bar(range(3), None, file=io.StringIO()).disable
    assert not progress_bar(range(3), None, file=Terminal()).disable


def test_forced_bars():
    assert not progress_bar(range(3), True, file=io.StringIO()).disable
    assert progress_bar(range(3), False, file=Terminal()).disable


def test_an_automatic_bar_on_a_terminal_draws_after_its_delay():
    stream = Terminal()
    bar = progress_bar(range(100), None, file=stream, mininterval=0)
    bar.start_t -= 2.0                      # as if the pass had run for two seconds
    list(bar)
    assert "\r" in stream.getvalue()


def one_pass(progress):
    model = flux.Dense(2, 1, rng=0)
    data = [(np.ones((2, 2), np.float32), np.zeros((2, 1), np.float32))] * 5
    flux.train(lambda x, y: flux.mse(model(x), y), flux.params(model), data,
               flux.Descent(0.1), progress=progress)


def test_training_into_a_log_writes_no_carriage_returns(capsys):
    one_pass(None)
    assert capsys.readouterr().err == ""
    one_pass(True)
    assert "train" in capsys.readouterr().err
