"""Constructor arguments declared once, in the dataclass style.

A built-in optimizer (``_Hyperparameters``) or learning-rate schedule (``_Arguments``)
lists its constructor arguments as the annotated attributes of a nested class,
``name: annotation = default`` in signature order. That one declaration gives the
``__init__`` (:func:`declared_init`): its signature, the binding of positional and
keyword arguments, the attributes it sets; and the config keys, where each used to
be written out again by hand. A declaration that subclasses another extends it as a
dataclass does: the inherited fields first, a redeclared field keeping its place
with its new default.

Example:
    >>> class Base:
    ...     def __init__(self, name=None):
    ...         self.name = name
    >>> class Decay(Base):
    ...     class _Arguments:
    ...         rate: float = 0.1
    ...         steps: int = 10
    ...         name: str = "decay"
    ...     def _post_init(self):  # checks and derived values
    ...         self.total = self.rate * self.steps
    >>> Decay.__init__ = declared_init(Decay, Decay._Arguments, Base, forwarded=["name"])
    >>> str(inspect.signature(Decay))
    "(rate: float = 0.1, steps: int = 10, name: str = 'decay')"
    >>> vars(Decay(0.5, name="half"))
    {'name': 'half', 'rate': 0.5, 'steps': 10, 'total': 5.0}
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection
from typing import Any

_FIELD = inspect.Parameter.POSITIONAL_OR_KEYWORD


def declared_signature(declaration: type, var_keyword: bool = False) -> inspect.Signature:
    """``(self, <fields>)`` from ``declaration``'s annotated class attributes (and
    ``**kwargs: Any`` after them when ``var_keyword``); a field without a default is
    required."""
    fields: dict[str, inspect.Parameter] = {}
    for klass in reversed(declaration.__mro__[:-1]):  # `object` declares nothing
        own = vars(klass)
        annotations = inspect.get_annotations(klass, eval_str=True)
        unannotated = [n for n in own if not n.startswith("__") and n not in annotations]
        if unannotated:  # a bare `name = value` would be silently ignored
            raise TypeError(
                f"{declaration.__qualname__}: declare each argument as `name: type = default`; "
                f"received {unannotated} without an annotation."
            )
        for name, annotation in annotations.items():
            default = own.get(name, inspect.Parameter.empty)
            fields[name] = inspect.Parameter(name, _FIELD, default=default, annotation=annotation)
    params = [inspect.Parameter("self", _FIELD), *fields.values()]
    if var_keyword:
        params.append(inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD, annotation=Any))
    return inspect.Signature(params)


def bind_arguments(
    owner: str, signature: inspect.Signature, instance: Any, args: tuple, kwargs: dict
) -> dict[str, Any]:
    """The declared arguments as a call gives them (positionally or by name), the
    defaults filled in, without ``self``; a ``**kwargs`` field comes back as one dict."""
    try:
        bound = signature.bind(instance, *args, **kwargs)
    except TypeError as error:  # as Python words it, naming the class and its arguments
        public = signature.replace(parameters=list(signature.parameters.values())[1:])
        raise TypeError(f"{owner}(): {error}; its arguments are {public}.") from None
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    del arguments["self"]
    return arguments


def declared_init(
    cls: type,
    declaration: type,
    root: type,
    forwarded: Collection[str] = (),
    var_keyword: bool = False,
) -> Callable[..., None]:
    """The ``__init__`` of ``cls``, a subclass of ``root``, whose arguments
    ``declaration`` declares: the ``forwarded`` ones (and ``**kwargs`` when
    ``var_keyword``) go to ``root.__init__``, the others become attributes, then
    ``self._post_init()`` runs (checks and derived values) where the class has one.
    It replaces every ``__init__`` between ``cls`` and ``root``, so those must be
    declared ones too."""
    for klass in cls.__mro__[: cls.__mro__.index(root)]:
        init = klass.__dict__.get("__init__")
        if init is not None and not getattr(init, "_declared", False):
            raise TypeError(
                f"{cls.__name__}: declare its arguments or define `__init__`, not both; "
                f"received an `__init__` in {klass.__name__}."
            )
    signature = declared_signature(declaration, var_keyword)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        arguments = bind_arguments(type(self).__name__, signature, self, args, kwargs)
        to_root = {n: arguments.pop(n) for n in list(arguments) if n in forwarded}
        root.__init__(self, **to_root, **arguments.pop("kwargs", {}))
        for name, value in arguments.items():
            setattr(self, name, value)
        post_init = getattr(self, "_post_init", None)
        if post_init is not None:
            post_init()

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__module__ = cls.__module__
    __init__.__signature__ = signature  # type: ignore[attr-defined]
    __init__._declared = True  # type: ignore[attr-defined]
    return __init__


def with_forwarded_arguments(
    signature: inspect.Signature, forwarded: list[inspect.Parameter]
) -> inspect.Signature | None:
    """An ``__init__``'s signature with the arguments its ``**kwargs`` forwards (to
    the base class) spelled out, keyword-only, after its own; ``None`` when it takes
    no ``**kwargs`` (it then lists what it accepts itself).

    >>> def init(self, learning_rate=0.01, momentum=0.0, **kwargs): ...
    >>> base = [inspect.Parameter("clipnorm", _FIELD, default=None)]
    >>> str(with_forwarded_arguments(inspect.signature(init), base))
    '(self, learning_rate=0.01, momentum=0.0, *, clipnorm=None, **kwargs)'
    """
    params = list(signature.parameters.values())
    if not params or params[-1].kind is not inspect.Parameter.VAR_KEYWORD:
        return None
    own = {p.name for p in params}
    spelled = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in forwarded if p.name not in own
    ]
    return signature.replace(parameters=[*params[:-1], *spelled, params[-1]])
