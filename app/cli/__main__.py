"""`python -m app.cli`: the `secdigest` command."""

import sys

from app.cli.main import main

sys.exit(main())
