# The two commands a new user types (see README.md): `make demo` and `make test`.
PY ?= python3
PIP := $(PY) -m pip

.PHONY: install demo test test-all

install:
	$(PIP) install -q -e '.[test]'

# Runs the quickstart suite on the embedded shapes world; prints the path of its report.
demo: install
	musebench run suites/quickstart.yaml --out runs/quickstart

test: install
	$(PY) -m pytest -q -m "not slow"

test-all: install
	$(PY) -m pytest -q
