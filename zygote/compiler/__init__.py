"""The compiler: a Python function's source in, its primal and adjoint as code objects out.

The stages, in the order the pipeline runs them: ``parse`` (source to a gast tree),
``validate`` (refuse what cannot be transformed), ``normalise`` (A-normal form, with
``lower`` for early exits and ``names`` for readable temporaries), ``analysis`` (activity
and assignment sites), ``transform`` (the primal and adjoint trees; ``control`` for
compound statements, ``inline`` for expression rules), ``simplify`` (copy propagation)
and ``compile`` (code objects; ``codegen`` renders text for ``adjoint_source``). ``cache``
keeps one compiled pair per code object and activity pattern; ``fused`` joins a pair into
one gradient function, ``fastpath`` compiles entry points around it, and ``nested`` makes
gradients inside differentiated code work.
"""
