# The two commands a new user types (see README.md): `make demo` and `make test`.
PY ?= python3
PIP := $(PY) -m pip

.PHONY: install demo test test-all

# An editable install writes no bytecode; compile it once (what a regular pip install does), so
# every run skips compiling musebench's modules even where PYTHONDONTWRITEBYTECODE is set.
install:
	$(PIP) install -q -e '.[test]'
	$(PY) -m compileall -q musebench reference_model > /dev/null

# Runs the quickstart suite on the embedded shapes world; prints the path of its report.
demo: install
	musebench run suites/quickstart.yaml --out runs/quickstart

test: install
	$(PY) -m pytest -q -m "not slow"

test-all: install
	$(PY) -m pytest -q
