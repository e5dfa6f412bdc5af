"""resolved_from asks punq once per container and kind; another container gets its own."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import punq
from fastapi import Request

from entrypoints.http.deps import resolved_from


class Service:
    pass


def _request(container: punq.Container) -> Request:
    app = SimpleNamespace(state=SimpleNamespace(container=container))
    return cast(Request, SimpleNamespace(app=app))


def _container(instance: Service) -> tuple[punq.Container, list[Any]]:
    asked: list[Any] = []
    container = punq.Container()
    container.register(Service, instance=instance)
    resolve = container.resolve

    def counting(kind: Any, **kwargs: Any) -> Any:
        asked.append(kind)
        return resolve(kind, **kwargs)

    container.resolve = counting  # type: ignore[method-assign, assignment]
    return container, asked


def test_a_kind_is_resolved_once_per_container() -> None:
    first, second = Service(), Service()
    one, asked_one = _container(first)
    two, asked_two = _container(second)

    assert resolved_from(_request(one), Service) is first
    assert resolved_from(_request(one), Service) is first
    assert resolved_from(_request(two), Service) is second

    assert asked_one == [Service]
    assert asked_two == [Service]


def test_going_back_to_an_earlier_container_finds_what_it_resolved() -> None:
    first, second = Service(), Service()
    one, asked_one = _container(first)
    two, _ = _container(second)

    assert resolved_from(_request(one), Service) is first
    assert resolved_from(_request(two), Service) is second
    assert resolved_from(_request(one), Service) is first

    assert asked_one == [Service]
