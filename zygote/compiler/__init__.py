"""The compiler: a Python function's source in, its primal and adjoint as code objects out.

The stages, in the order the pipeline runs them: ``parse`` (source to a gast tree),
``validate`` (refuse what cannot be transformed), ``normalise`` (A-normal form, with
``branching`` for expressions that hide control flow, ``lower`` for early exits and
``names`` for readable temporaries), ``analysis`` (activity and assignment sites, with
``resolve`` for the globals read), ``transform`` (the primal and adjoint trees; ``calls``
for calls, ``control`` for compound statements, ``inline`` for expression rules),
``simplify`` (copy propagation) and ``compile`` (code objects; ``codegen`` renders text
for ``adjoint_source``). ``pipeline`` runs them in that order. ``cache`` keeps one
compiled pair per code object and activity pattern; ``fused`` joins a pair into one
gradient function, ``fastpath`` compiles entry points around it, ``planned`` makes direct
calls of other functions' generated code, and ``nested`` makes gradients inside
differentiated code work.
"""
