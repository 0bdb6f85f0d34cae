"""Running the app's command line inside a test, as the real-browser tests do."""

from __future__ import annotations

import json

from privacy_inspector.cli import main as cli


def cli_json(capsys, *args: str) -> tuple[int, dict]:
    """Run ``privacy-inspector ARGS`` in this process: the exit code, and the JSON
    object it printed (``{}`` when it printed none)."""
    code = cli.main(list(args))
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip().startswith("{") else {}
