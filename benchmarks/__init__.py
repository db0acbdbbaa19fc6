"""The speed suite: zygote and flux against hand-written numpy, tangent, autograd, JAX and PyTorch.

Run ``python -m benchmarks`` (``--quick`` for the smoke test); see `__main__`.
"""
