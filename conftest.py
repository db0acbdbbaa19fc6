"""Collection settings for the whole checkout: what pytest leaves out where an extra is missing."""
import importlib.util
import os
import tempfile

collect_ignore_glob = []
if importlib.util.find_spec("scipy") is None:
    # The rules for scipy import it; without the scipy extra pytest must not import them to
    # look for doctests (zygote itself never imports them then).
    collect_ignore_glob.append("zygote/rules/scipy/*.py")
if importlib.util.find_spec("numba") is None:
    # zygote.native compiles with numba; without the numba extra its modules cannot load.
    collect_ignore_glob.append("zygote/native/*.py")

# Compiled gradients made by the tests go to a directory of their own, not the user's cache.
os.environ.setdefault("ZYGOTE_CACHE_DIR", os.path.join(tempfile.gettempdir(), f"zygote-tests-{os.getuid()}"))
