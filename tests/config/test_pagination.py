"""One way to show a long list a page at a time, for both front ends (config/pagination.py)."""

import ast

import pytest
from django.test import RequestFactory

from config.pagination import page_of
from tests.layers import FRONT_ENDS, ROOT

ITEMS = list(range(45))


@pytest.mark.parametrize(
    ("asked", "number", "first_item"),
    [
        ({}, 1, 0),
        ({"page": "2"}, 2, 20),
        ({"page": "3"}, 3, 40),
        ({"page": "9"}, 3, 40),  # past the end: the last page
        ({"page": "two"}, 1, 0),  # no number: the first page
    ],
)
def test_the_page_asked_for_in_the_query(asked, number, first_item):
    page = page_of(RequestFactory().get("/", asked), ITEMS, size=20)
    assert (page.number, page.object_list[0], page.paginator.num_pages) == (number, first_item, 3)


def test_a_page_number_read_and_checked_already_wins_over_the_query():
    page = page_of(RequestFactory().get("/", {"page": "3"}), ITEMS, size=20, number="2")
    assert page.number == 2


def test_no_front_end_builds_a_paginator_of_its_own():
    builds = [
        path.relative_to(ROOT).as_posix()
        for front_end in FRONT_ENDS
        for path in sorted((ROOT / front_end).rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Paginator"
    ]
    assert builds == []
