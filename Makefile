# The two commands of the README:
#   make quickstart   install everything, then run the main job
#   make test         install everything, then run the test suite
PYTHON_ENV := .venv/bin/python

.PHONY: env quickstart test test-unit

env:
	bash tools/setup/install_env.sh

quickstart: env
	$(PYTHON_ENV) tools/quickstart.py

test: env
	$(PYTHON_ENV) -m pytest tests -q

# development: the suite without the end-to-end runs (a few minutes)
test-unit: env
	$(PYTHON_ENV) -m pytest tests -q -m "not slow"
