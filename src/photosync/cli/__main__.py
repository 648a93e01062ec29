from photosync.cli.main import app

app(prog_name="photosync")
