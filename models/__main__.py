"""`python -m models migrate [--db URL]` (the Procfile's release step) and
`python -m models downgrade [REV]`."""

import argparse
import sys

from engine.core.settings import Settings  # an entry point: settings are read in one place
from models.migrate import downgrade, upgrade

parser = argparse.ArgumentParser(prog="python -m models")
parser.add_argument("action", choices=["migrate", "downgrade"])
parser.add_argument("revision", nargs="?", default=None)
parser.add_argument("--db", default=None)
args = parser.parse_args()
url = Settings.from_env(args.db).database_url
if args.action == "migrate":
    upgrade(url, args.revision or "head")
else:
    downgrade(url, args.revision or "base")
sys.exit(0)
