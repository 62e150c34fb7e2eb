from sagefence.cli import run

run()
