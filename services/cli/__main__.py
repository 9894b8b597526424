"""`python -m services.cli`: the `borderflow` command."""

from services.cli.main import main

raise SystemExit(main())
