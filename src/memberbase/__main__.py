from memberbase.cli.main import app

app(prog_name="memberbase")
