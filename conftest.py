"""Collection settings for the whole checkout: what pytest leaves out where an extra is missing."""
try:
    import scipy  # noqa: F401  (scipy's top level is small: its parts load on demand)
except ImportError:
    # The rules for scipy import it; without the scipy extra pytest must not import them to
    # look for doctests (zygote itself never imports them then).
    collect_ignore_glob = ["zygote/rules/scipy/*.py"]
