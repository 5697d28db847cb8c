from settle.cli import run

run()
