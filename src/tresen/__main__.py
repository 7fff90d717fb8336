from tresen.cli import app

app()
