"""`python -m app` is the `lantern` command."""

from app.cli import main

raise SystemExit(main())
