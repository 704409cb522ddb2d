"""``python -m sagatsr`` runs the command-line interface."""

from sagatsr.cli import main

raise SystemExit(main())
