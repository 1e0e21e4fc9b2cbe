"""Jinja's list helpers (map, select, reject, sort, unique, sum, min, max, first, last,
slice), rewritten for data only: an attribute is a key or an index, never a Python
attribute, a test or filter named by text must be one the sandbox has, and every list
built is charged to a size budget item by item, so it stops at the first item past the
cap (a list may hold many references to one large value)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from jinja2 import pass_environment
from jinja2.environment import Environment
from jinja2.runtime import Undefined

from workflows_app.expression_values import (
    ExpressionError,
    SizeBudget,
    compact_json,
    describe,
)

MAX_ATTRIBUTE_PARTS = 8


def bounded_list(items: Iterable[Any], what: str) -> list[Any]:
    """items as a list, refused as soon as their JSON size passes the result cap."""
    budget = SizeBudget(what)
    kept: list[Any] = []
    for item in items:
        budget.spend(item)
        kept.append(item)
    return kept


def _items(value: Any, name: str) -> list | tuple:
    if value is None or isinstance(value, Undefined):
        return []
    if isinstance(value, list | tuple):
        return value
    raise ExpressionError(f"{name} needs a list, not {describe(value)}")


def _getter(attribute: Any, name: str) -> Callable[[Any], Any]:
    """`a.b.0`: keys of objects and indexes of lists; anything missing is null."""
    if attribute is None:
        return lambda item: item
    if isinstance(attribute, int) and not isinstance(attribute, bool):
        parts: list[Any] = [attribute]
    elif isinstance(attribute, str) and attribute:
        parts = attribute.split(".")
    else:
        raise ExpressionError(f"{name} attribute must be a key such as 'a.b'")
    if len(parts) > MAX_ATTRIBUTE_PARTS:
        raise ExpressionError(f"{name} attribute has more than {MAX_ATTRIBUTE_PARTS} parts")

    def get(item: Any) -> Any:
        for part in parts:
            if isinstance(item, Mapping):
                item = item.get(part if isinstance(part, str) else str(part))
            elif isinstance(item, list | tuple) and (isinstance(part, int) or part.lstrip("-").isdigit()):
                index = int(part)
                item = item[index] if -len(item) <= index < len(item) else None
            else:
                return None
        return None if isinstance(item, Undefined) else item

    return get


def _sort_key(case_sensitive: bool, get: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def key(item: Any) -> Any:
        value = get(item)
        return value.lower() if isinstance(value, str) and not case_sensitive else value

    return key


def _ordered(name: str, run: Callable[[], Any]) -> Any:
    try:
        return run()
    except TypeError:
        raise ExpressionError(f"{name} cannot compare items of different kinds (text with numbers, null...)") from None


@pass_environment
def _map(environment: Environment, value: Any, *args: Any, attribute: Any = None, default: Any = None) -> list:
    """map(attribute='a.b', default=none) picks a key; map('upper') applies a filter."""
    items = _items(value, "map")
    if attribute is not None:
        if args:
            raise ExpressionError("map takes a filter name or attribute=..., not both")
        get = _getter(attribute, "map")
        return bounded_list((default if (found := get(item)) is None else found for item in items), "the mapped list")
    if not args or not isinstance(args[0], str):
        raise ExpressionError("map needs a filter name, e.g. map('lower'), or attribute='key'")
    name, rest = args[0], args[1:]
    apply = environment.filters.get(name)
    if apply is None:
        raise ExpressionError(f"map: unknown filter {name!r}")
    # Each filter is bounded by itself; the list of their results shares one budget.
    return bounded_list((environment.call_filter(name, item, rest) for item in items), "the mapped list")


def _tested(environment: Environment, value: Any, args: tuple, name: str, attribute: Any, keep: bool) -> list:
    items = _items(value, name)
    get = _getter(attribute, name)
    if args:
        if not isinstance(args[0], str) or args[0] not in environment.tests:
            raise ExpressionError(f"{name}: unknown test {args[0]!r}")
        test_name, test_args = args[0], args[1:]

        def passes(item: Any) -> bool:
            return bool(environment.call_test(test_name, get(item), test_args))
    else:

        def passes(item: Any) -> bool:
            return bool(get(item))

    return bounded_list((item for item in items if passes(item) == keep), f"the {name}ed list")


@pass_environment
def _select(environment: Environment, value: Any, *args: Any) -> list:
    return _tested(environment, value, args, "select", None, True)


@pass_environment
def _reject(environment: Environment, value: Any, *args: Any) -> list:
    return _tested(environment, value, args, "reject", None, False)


@pass_environment
def _selectattr(environment: Environment, value: Any, attribute: Any = None, *args: Any) -> list:
    return _tested(environment, value, args, "selectattr", attribute or "", True)


@pass_environment
def _rejectattr(environment: Environment, value: Any, attribute: Any = None, *args: Any) -> list:
    return _tested(environment, value, args, "rejectattr", attribute or "", False)


def _sort(value: Any, reverse: bool = False, case_sensitive: bool = False, attribute: Any = None) -> list:
    items = _items(value, "sort")
    key = _sort_key(case_sensitive, _getter(attribute, "sort"))
    ordered = _ordered("sort", lambda: sorted(items, key=key, reverse=bool(reverse)))
    return bounded_list(ordered, "the sorted list")


def _identity(item: Any) -> Any:
    """A hashable stand-in: objects and lists compare by their JSON text."""
    if isinstance(item, Mapping | list | tuple):
        return ("json", compact_json(item))
    return ("value", type(item) is bool, item)  # true and 1 stay distinct


def _unique(value: Any, case_sensitive: bool = False, attribute: Any = None) -> list:
    key = _sort_key(case_sensitive, _getter(attribute, "unique"))

    def first_of_each() -> Iterator[Any]:
        seen: set[Any] = set()
        for item in _items(value, "unique"):
            identity = _identity(key(item))
            if identity not in seen:
                seen.add(identity)
                yield item

    return bounded_list(first_of_each(), "the unique list")


def _sum(value: Any, attribute: Any = None, start: Any = 0) -> Any:
    if not isinstance(start, int | float) or isinstance(start, bool):
        raise ExpressionError("sum start must be a number")
    get = _getter(attribute, "sum")
    total = start
    for item in _items(value, "sum"):
        number = get(item)
        if not isinstance(number, int | float) or isinstance(number, bool):
            raise ExpressionError(f"sum adds numbers, not {describe(number)}")
        total = total + number
    return total


def _extreme(value: Any, name: str, pick: Callable[..., Any], case_sensitive: bool, attribute: Any) -> Any:
    items = _items(value, name)
    if not items:
        return None
    key = _sort_key(case_sensitive, _getter(attribute, name))
    return _ordered(name, lambda: pick(items, key=key))


def _min(value: Any, case_sensitive: bool = False, attribute: Any = None) -> Any:
    return _extreme(value, "min", min, case_sensitive, attribute)


def _max(value: Any, case_sensitive: bool = False, attribute: Any = None) -> Any:
    return _extreme(value, "max", max, case_sensitive, attribute)


def _first(value: Any) -> Any:
    if isinstance(value, str):
        return value[:1] or None
    items = _items(value, "first")
    return items[0] if items else None


def _last(value: Any) -> Any:
    if isinstance(value, str):
        return value[-1:] or None
    items = _items(value, "last")
    return items[-1] if items else None


def _slice(value: Any, slices: Any, fill_with: Any = None) -> list:
    """Jinja's slice: the list cut into `slices` lists of near-equal length (columns)."""
    items = _items(value, "slice")
    if not (isinstance(slices, int) and not isinstance(slices, bool) and slices >= 1):
        raise ExpressionError("slice needs a number of slices of at least 1")
    per_slice, extra = divmod(len(items), slices)

    def columns() -> Iterator[list]:
        start = 0
        for number in range(slices):
            end = start + per_slice + (1 if number < extra else 0)
            column = list(items[start:end])
            if fill_with is not None and number >= extra and extra:
                column.append(fill_with)
            start = end
            yield column

    # A generator: slice(10**9) is refused at the cap, not after a billion empty lists.
    return bounded_list(columns(), "the sliced list")


LIST_FILTERS: dict[str, Callable[..., Any]] = {
    "map": _map,
    "select": _select,
    "reject": _reject,
    "selectattr": _selectattr,
    "rejectattr": _rejectattr,
    "sort": _sort,
    "unique": _unique,
    "sum": _sum,
    "min": _min,
    "max": _max,
    "first": _first,
    "last": _last,
    "slice": _slice,
}
