"""Progress bars that follow tqdm's convention for logs: drawn on a terminal, silent elsewhere.

tqdm redraws its bar with a carriage return several times a second; written to a file or a
CI log, that is hundreds of lines per epoch. With ``disable=None`` tqdm draws only when its
stream is a terminal, which is what ``progress=None`` (automatic) means in flux.
"""

from tqdm.auto import tqdm

__all__ = ["progress_bar"]


def progress_bar(iterable=None, progress=None, **options):
    """A tqdm bar: ``progress=True`` always drawn, ``False`` never, ``None`` only on a terminal.

    An automatic bar also waits a second before it appears, so quick loops draw nothing.
    ``options`` go to tqdm (``desc``, ``total``, ``unit``, ...).

    >>> import io
    >>> stream = io.StringIO()                     # not a terminal
    >>> sum(progress_bar(range(3), file=stream))
    3
    >>> stream.getvalue()
    ''
    """
    if progress is None:
        return tqdm(iterable, disable=None, delay=1.0, **options)
    return tqdm(iterable, disable=not progress, delay=0, **options)
