"""The sandbox chat templates render in: Jinja's immutable sandbox, on a budget.

A chat template comes with the model file, so it is untrusted code. Jinja's immutable
sandbox keeps it from reaching Python's internals; the budget here keeps it from hanging
or exhausting memory: steps (loop iterations, calls, attribute reads), wall time, call
depth and output size are counted, string operations whose result would pass the output
limit are refused before they run, and the caller's stop flag is polled. Every way out is
a ``ChatTemplateError`` with a sentence.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, NoReturn

import jinja2
import jinja2.ext
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range

from app.errors import ChatTemplateError

MAX_STEPS = 2_000_000  # loop iterations, calls and attribute reads per rendering
MAX_SECONDS = 5.0  # wall time per rendering
MAX_DEPTH = 100  # nested calls (macros calling macros)
MIN_OUTPUT = 1_000_000  # characters; more when the conversation itself is longer


TEMPLATE_FAILURES = (
    jinja2.TemplateError,
    ChatTemplateError,
    TypeError,
    ValueError,
    AttributeError,
    LookupError,
    ArithmeticError,
)
"""What a template's own mistakes raise (``raise_exception``, a wrong type, a missing key)."""


class Budget:
    """Limits of one rendering; ``step()`` raises ``ChatTemplateError`` past them."""

    def __init__(self, max_output: int, should_stop: Callable[[], bool]) -> None:
        self.steps = 0
        self.depth = 0
        self.max_output = max_output
        self.deadline = time.monotonic() + MAX_SECONDS
        self.should_stop = should_stop

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise ChatTemplateError(
                f"The model's chat template took more than {MAX_STEPS:,} steps to format "
                "this conversation; it may be broken or hostile."
            )
        if self.steps % 256 == 0:
            self.check_time()

    def check_time(self) -> None:
        if self.should_stop():
            raise ChatTemplateError("Formatting the conversation was stopped.")
        if time.monotonic() > self.deadline:
            raise ChatTemplateError(
                f"The model's chat template took more than {MAX_SECONDS:g} seconds to format "
                "this conversation; it may be broken or hostile."
            )

    def check_size(self, size: int) -> None:
        if size > self.max_output:
            raise ChatTemplateError(
                f"The model's chat template made a text of more than {self.max_output:,} "
                "characters from this conversation; it may be broken or hostile."
            )


class _CompileTimeBudget(Budget):
    """Outside a rendering (Jinja folding constants while it compiles): sizes only."""

    def step(self) -> None:
        pass


_NO_BUDGET = _CompileTimeBudget(MIN_OUTPUT, lambda: False)


class _CodeGenerator(CodeGenerator):
    """Jinja's code generator, with ``a ~ b`` checked against the output limit."""

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.checked_concat({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class BudgetedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, counting steps against the budget of the current rendering."""

    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})
    budget: Budget = _NO_BUDGET

    def checked_concat(self, join: Callable[[Any], str], values: tuple[Any, ...]) -> str:
        """``a ~ b ~ ...``: refused before joining when the text would pass the limit."""
        budget = self.budget
        budget.step()
        budget.check_size(sum(len(v) if isinstance(v, str) else len(str(v)) for v in values))
        return join(values)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = __self.budget
        budget.step()
        budget.depth += 1
        try:
            if budget.depth > MAX_DEPTH:
                raise ChatTemplateError(
                    f"The model's chat template nests calls more than {MAX_DEPTH} deep "
                    "(a macro that calls itself?); it may be broken or hostile."
                )
            _check_sizes(budget, args, kwargs)
            target = getattr(__obj, "__self__", None)
            if isinstance(target, str):
                args = _check_text_op(budget, __obj.__name__, target, args, kwargs)
            return super().call(__context, __obj, *args, **kwargs)
        finally:
            budget.depth -= 1

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text = value.__self__

        def checked(*args: Any, **kwargs: Any) -> str:
            _check_format(self.budget, text)
            return wrapped(*args, **kwargs)

        return checked

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.budget.step()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        self.budget.step()
        return super().getitem(obj, argument)

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        budget = self.budget
        budget.step()
        if operator_ == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
                    budget.check_size(len(seq) * times)
        elif operator_ == "**" and isinstance(left, int) and isinstance(right, int):
            if abs(left) > 1 and left.bit_length() * right > 100_000:
                raise ChatTemplateError(
                    "The model's chat template computes a number too large to format; "
                    "it may be broken or hostile."
                )
        elif operator_ == "+" and isinstance(left, (str, list)) and isinstance(right, type(left)):
            budget.check_size(len(left) + len(right))
        elif operator_ == "%" and isinstance(left, str):
            _check_format(budget, left)
        return super().call_binop(context, operator_, left, right)


def _check_sizes(budget: Budget, args: Sequence[Any], kwargs: dict[str, Any]) -> None:
    """A width or count past the output limit (``'x'.ljust(10**9)``) is refused up front."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool):
            budget.check_size(abs(value))


def _check_format(budget: Budget, fmt: str) -> None:
    """Widths and precisions in a format string (``'%3000000000d'``) within the limit."""
    for digits in re.findall(r"\d+", fmt):
        if len(digits) > 12:
            budget.check_size(10**12)
        budget.check_size(int(digits))


def _check_text_op(
    budget: Budget, name: str, text: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, ...]:
    """Refuse a string operation whose result would pass the output limit, before it runs.

    Returns the arguments to run it with (an iterable to join is read into a list)."""
    if name == "join" and args:
        items = [str(x) for x in args[0]]
        budget.check_size(len(text) * len(items) + sum(map(len, items)))
        return (items, *args[1:])
    if name == "replace":
        old, new = [*args, kwargs.get("old"), kwargs.get("new")][:2]
        if isinstance(old, str) and isinstance(new, str):
            budget.check_size(len(text) + (len(text) // max(1, len(old)) + 1) * len(new))
    elif name in ("format", "format_map", "__mod__"):
        _check_format(budget, text)
    elif name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(size, int):
            budget.check_size(len(text) * max(1, size))
    elif name == "indent":
        width = args[0] if args else kwargs.get("width", 4)
        if isinstance(width, str):
            budget.check_size(len(text) + (text.count("\n") + 1) * len(width))
    return args


def _budgeted_filter(env: BudgetedSandbox, name: str, function: Any) -> Any:
    passes_context = hasattr(function, "jinja_pass_arg")

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        budget = env.budget
        budget.step()
        _check_sizes(budget, args, kwargs)
        head, rest = (args[:1], args[1:]) if passes_context else ((), args)
        if name == "join" and rest:
            # join(value, d): the separator is the text repeated.
            items = [str(x) for x in rest[0]]
            sep = rest[1] if len(rest) > 1 else kwargs.get("d", "")
            budget.check_size(len(str(sep)) * len(items) + sum(map(len, items)))
            rest = (items, *rest[1:])
        elif name in ("replace", "format", "indent") and rest and isinstance(rest[0], str):
            rest = (rest[0], *_check_text_op(budget, name, rest[0], rest[1:], kwargs))
        return function(*head, *rest, **kwargs)

    return run


def _raise_exception(message: str) -> NoReturn:
    raise jinja2.TemplateError(message)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


def _tojson(value: Any, indent: int | None = None, **_: Any) -> str:
    # transformers' tojson: no HTML escaping (Jinja's built-in one escapes < > & ').
    return json.dumps(value, ensure_ascii=False, indent=indent)


def environment() -> BudgetedSandbox:
    env = BudgetedSandbox(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = _tojson
    for name, function in list(env.filters.items()):
        env.filters[name] = _budgeted_filter(env, name, function)
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    del env.globals["lipsum"]  # seconds of filler text on request; no chat template uses it
    env.globals["range"] = lambda *args: _BudgetedRange(env, safe_range(*args))
    return env


class _BudgetedRange(Sequence[int]):
    """A sandbox ``range`` whose iteration counts steps against the rendering's budget."""

    def __init__(self, env: BudgetedSandbox, numbers: range) -> None:
        self._env = env
        self._numbers = numbers

    def __iter__(self) -> Iterator[int]:
        for i in self._numbers:
            self._env.budget.step()
            yield i

    def __reversed__(self) -> Iterator[int]:
        return iter(_BudgetedRange(self._env, self._numbers[::-1]))

    def __len__(self) -> int:
        return len(self._numbers)

    def __getitem__(self, index: Any) -> Any:
        item = self._numbers[index]
        return _BudgetedRange(self._env, item) if isinstance(item, range) else item


def render(
    env: BudgetedSandbox,
    template: jinja2.Template,
    max_output: int,
    should_stop: Callable[[], bool],
    variables: dict[str, Any],
) -> str:
    """``template`` rendered with ``variables`` within a fresh budget of ``env``."""
    budget = Budget(max_output, should_stop)
    env.budget = budget
    out: list[str] = []
    total = 0
    try:
        for piece in template.generate(variables):
            total += len(piece)
            budget.check_size(total)
            budget.check_time()
            out.append(piece)
    except RecursionError as e:
        raise ChatTemplateError(
            "The model's chat template nests too deeply to format this conversation "
            "(a macro that calls itself?); it may be broken or hostile."
        ) from e
    except MemoryError as e:
        raise ChatTemplateError(
            "The model's chat template needs more memory than there is to format this "
            "conversation; it may be broken or hostile."
        ) from e
    except OverflowError as e:
        raise ChatTemplateError(
            f"The model's chat template cannot format this conversation: {e}"
        ) from e
    except TEMPLATE_FAILURES:
        raise  # the caller words these (and may retry without a system message)
    except Exception as e:  # untrusted code: nothing else may escape either
        raise ChatTemplateError(
            f"The model's chat template failed on this conversation ({type(e).__name__}: "
            f"{str(e)[:300]}); it may be broken."
        ) from e
    finally:
        env.budget = _NO_BUDGET
    return "".join(out)
