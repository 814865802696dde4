"""The engine: variables, the stateless scope, seed generators, the call context and
the ``Layer`` call protocol. See ``callax/core/README.md``."""
