"""One module per command: each `run(settings, options...)` calls the library and returns a result
object (a report, a summary, a tally); none prints (render/ does) or parses arguments (cli.py does).

cli.py imports a command only inside its function, so that `newsctl --help` loads none of them.
"""
