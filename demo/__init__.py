"""Demo data for `make run`: one clinic, its admin and nurse, three patients on regimens, and
the `seed_demo` command that loads them (seed.py).

A project-level concern, not a domain app's: it uses every domain app's services to build a
world, and nothing imports it. Its own app so that Django finds the command.
"""
