"""`python -m cli.services test-env [--data-dir DIR] | stop-private DIR` (see `testenv`)."""

import sys

from cli.services.testenv import main

sys.exit(main())
