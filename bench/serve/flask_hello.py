"""serve's benchmark's Flask app: the 13 bytes of hello.py through one Flask route."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello world!\n", 200, {"Content-Type": "text/plain"}
