"""The error family: one class per problem type, all in app/errors.py, all documented."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import app
from app.errors import PROBLEM_TYPES, SecdigestError

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
ROW = re.compile(r"^\| `/problems/(?P<slug>[a-z-]+)` \| (?P<status>\d{3}) \|", re.MULTILINE)


def _every_subclass(cls: type[SecdigestError]) -> list[type[SecdigestError]]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_every_subclass(sub)]
    return found


def test_the_problem_table_of_the_docs_lists_exactly_the_problem_types() -> None:
    documented = [(m["slug"], int(m["status"])) for m in ROW.finditer(API_DOC.read_text())]
    assert sorted(documented) == sorted((e.slug, e.status_code) for e in PROBLEM_TYPES)


def test_each_problem_type_has_one_class() -> None:
    slugs = [error.slug for error in PROBLEM_TYPES]
    assert len(slugs) == len(set(slugs))


def test_every_error_class_of_the_service_lives_in_app_errors() -> None:
    for module in pkgutil.walk_packages(app.__path__, prefix="app."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    outside = [c for c in _every_subclass(SecdigestError) if c.__module__ != "app.errors"]
    assert outside == []
    # Each class answers one of the documented types (a subclass may narrow its detail).
    documented = {(e.slug, e.status_code) for e in PROBLEM_TYPES}
    assert {(c.slug, c.status_code) for c in _every_subclass(SecdigestError)} <= documented
