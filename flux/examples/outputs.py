"""What an example run leaves in its output directory: the trained parameters and a plot of its curves."""

from pathlib import Path

import flux


def pyplot():
    """``matplotlib.pyplot`` set to draw into files (no window), or None without matplotlib.

    >>> plt = pyplot()
    >>> plt is None or plt.get_backend().lower() == "agg"
    True
    """
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def save_run(out, model, history, plot_curves, say=print):
    """Save ``model`` to ``out/model.npz`` and ``plot_curves(history, out/curves.png)``, saying so.

    ``plot_curves`` returns False when matplotlib is missing; the run then says how to get it.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    flux.save(out / "model.npz", model)
    say(f"saved parameters to {out / 'model.npz'}")
    if plot_curves(history, out / "curves.png"):
        say(f"saved curves to {out / 'curves.png'}")
    else:
        say("matplotlib is not installed: skipped the plot (pip install matplotlib)")
