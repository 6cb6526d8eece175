"""One module per `python -m engine` subcommand. Each defines:

    HELP: str
    def configure(parser: argparse.ArgumentParser) -> None
    def run(args: argparse.Namespace) -> Answer | int | None

`run` returns an Answer (printed as a table, or as {"results": [...]} with --json),
or an exit code for commands that print their own output. A ScoutError becomes a
message on stderr and exit 2. `args.db` holds the --db override (or None).
Add the module's name to engine.cli.COMMANDS.
"""
