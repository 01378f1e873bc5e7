# Everything a fresh clone needs: `make demo` and `make test` set up .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The lowest Airflow pyproject.toml allows, tested in a venv of its own (`make test-floor`).
AIRFLOW_FLOOR := 3.2.0
VENV_FLOOR    := .venv-floor
BIN_FLOOR     := $(VENV_FLOOR)/bin
STAMP_FLOOR   := $(VENV_FLOOR)/.installed
# Airflow 3.2.0 asks for fastapi>=0.129.0 with no upper bound, and its execution API (every task run,
# dag.test() too) fails to build on fastapi 0.137+ ("Model 'TITerminalStatePayload' needs a
# discriminator field"); Airflow 3.3.2 requires fastapi<0.137.0. Airflow's own constraints pin it too.
FLOOR_PINS    := "fastapi<0.137"
# Tests and the demo keep Airflow's metadata DB and logs inside the checkout.
export AIRFLOW_HOME ?= $(CURDIR)/.airflow

.PHONY: venv venv-floor test test-floor lint typecheck demo bench soak sandbox browser scheduler-test screenshot ui-demo clean constraints constraints-floor

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

$(STAMP_FLOOR): pyproject.toml constraints-floor.txt
	test -x $(BIN_FLOOR)/python || $(PYTHON) -m venv $(VENV_FLOOR)
	$(BIN_FLOOR)/python -m pip install -q --upgrade "pip>=24"
	$(BIN_FLOOR)/python -m pip install -q -c constraints-floor.txt -e ".[dev]" "apache-airflow==$(AIRFLOW_FLOOR)"
	touch $(STAMP_FLOOR)

venv-floor: $(STAMP_FLOOR)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy reads its settings (files, check_untyped_defs) from pyproject.toml.
typecheck: venv
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

# The same provider on the lowest Airflow pyproject.toml allows: the tests that exercise Airflow's
# APIs (DAG parsing, dag.test(), the plugin's app on the API server, triggers, sensors, notifiers,
# connection forms), under their own AIRFLOW_HOME so the two venvs never share a metadata DB.
# Of the dag.test() flows, the five that cover what Airflow does (a first run, a re-run that maps
# over nothing, task retries, Retry Pending, a manual run's params); the others test the binding
# itself over more runs and would double the time (about 4 minutes as it is).
BINDING_DAG := tests/flows/test_device_binding_dag.py
FLOOR_TESTS := tests/test_provider_info.py tests/test_example_dags.py tests/test_budget.py \
	tests/operators tests/hooks tests/triggers tests/sensors tests/notifications tests/plugins/test_app.py \
	$(BINDING_DAG)::test_initial_bind_field_by_field \
	$(BINDING_DAG)::test_resync_writes_nothing_and_changes_write_only_what_changed \
	$(BINDING_DAG)::test_faults_converge_within_retries_without_duplicates \
	$(BINDING_DAG)::test_retry_pending_writes_only_the_devices_still_pending \
	$(BINDING_DAG)::test_manual_sync_dry_run_writes_nothing_and_a_policy_can_be_linked_for_the_run

test-floor: venv-floor
	AIRFLOW_HOME=$(CURDIR)/.airflow-floor $(BIN_FLOOR)/pytest -p no:randomly -q $(FLOOR_TESTS)

demo: venv
	$(BIN)/python tools/demo.py

bench: venv
	$(BIN)/python bench/binding.py

# The long, random profile of the model-based binding test, then the fault soak.
soak: venv
	CONNECTWISE_MODEL_PROFILE=soak $(BIN)/pytest -q -p no:randomly tests/reliability/test_binding_model.py tests/reliability/test_fault_soak.py

sandbox: venv
	$(BIN)/python -m airflow_provider_connectwise.sandbox --port 8765 --seed demo

# The ConnectWise page in a real headless browser (installs Debian's chromium when missing).
browser: venv
	scripts/browser-deps.sh
	$(BIN)/pytest -m browser tests/browser

# The example DAGs under a real Airflow (scheduler, dag-processor, triggerer, API server; LocalExecutor,
# SQLite, an isolated AIRFLOW_HOME) and the sandbox, driven through the REST API (about 5 minutes).
scheduler-test: venv
	$(BIN)/pytest -s -m scheduler tests/scheduler

screenshot: venv
	CONNECTWISE_SCREENSHOT=docs/images/connectwise-page.png $(BIN)/pytest -m browser tests/browser

# Airflow's API server with the plugin and demo data (prints the URL, user and password).
ui-demo: venv
	$(BIN)/python -m tests.browser.airflow_demo

# Re-pin what CI installs (run after changing dependencies in pyproject.toml).
constraints: venv
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^airflow-provider-connectwise' > constraints.txt

# Re-pin what `make test-floor` installs: a fresh resolve, in a new .venv-floor, with Airflow held
# at $(AIRFLOW_FLOOR) (and $(FLOOR_PINS)).
constraints-floor:
	rm -rf $(VENV_FLOOR)
	$(PYTHON) -m venv $(VENV_FLOOR)
	$(BIN_FLOOR)/python -m pip install -q --upgrade "pip>=24"
	$(BIN_FLOOR)/python -m pip install -q -e ".[dev]" "apache-airflow==$(AIRFLOW_FLOOR)" $(FLOOR_PINS)
	$(BIN_FLOOR)/python -m pip freeze --exclude-editable | grep -v '^airflow-provider-connectwise' > constraints-floor.txt

clean:
	rm -rf $(VENV) $(VENV_FLOOR) .airflow .airflow-floor .pytest_cache .ruff_cache .mypy_cache
