#!/usr/bin/env python
import os
import sys
from pathlib import Path


def load_dotenv() -> None:
    """Read `.env` (made by `make run`) as honcho does, so `python manage.py ...` sees the same
    settings as the running app. Variables already in the environment win."""
    path = Path(__file__).resolve().parent / ".env"
    if not path.is_file():
        return
    from honcho.environ import parse

    for key, value in parse(path.read_text()).items():
        os.environ.setdefault(key, value)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    load_dotenv()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
