"""`python -m app.cli`: the `reposter` command."""

from app.cli import main

main()
