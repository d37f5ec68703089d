"""`python -m crm_store logs|report …`: hands over to the application's command line (app.store_cli)."""

import sys

from app.store_cli import main

sys.exit(main())
