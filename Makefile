# Everyday commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
STACK := scripts/stack/stack.sh

.PHONY: help install stack-up stack-down stack-status stack-logs setup-sip list-sip-trunks list-sip-dispatch \
	build gemini-sip gemini-sip-dev seed demo web visit-link outbound-calls campaigns dnc test test-unit test-e2e typecheck
TSX := node --import tsx

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.package-lock.json ## npm dependencies (npm ci)

stack-up: ## start Redis, livekit-server and livekit-sip on 127.0.0.1 (installs what is missing)
	@$(STACK) up

stack-down: ## stop the local stack
	@$(STACK) down

stack-status: ## one line per server of the local stack
	@$(STACK) status

stack-logs: ## the tail of every local stack log
	@$(STACK) logs

demo: build ## a real call on this machine, no keys: stack, trunk, seed, worker, SIPp call (date of birth, then 1), result
	@$(TSX) scripts/demo.ts

build: install ## compile src/ to dist/ (the worker runs from there)
	@npx tsc -p tsconfig.build.json

gemini-sip: build ## run the agent worker from dist/ (production: drains calls on SIGTERM)
	@node dist/worker/main.js start

gemini-sip-dev: install ## run the agent worker, restarting when src/ changes
	@npx tsx watch src/worker/main.ts start

outbound-calls: install ## call patients to confirm tomorrow's appointments, as a campaign that resumes (ARGS="file.csv --max-attempts 3 --retry-after 2h --report out.csv --json"; ARGS=--help)
	@$(TSX) scripts/outbound-calls.ts $(ARGS)

campaigns: install ## the dialer's campaigns with their counts (ARGS="show ID --json")
	@$(TSX) scripts/campaigns.ts $(ARGS)

dnc: install ## the do-not-call list (ARGS="add +14155550123 --reason ..." | "remove N" | "import FILE" | "list --full")
	@$(TSX) scripts/dnc.ts $(ARGS)

web: install ## the page web visitors talk to the agent from, on WEB_HOST:WEB_PORT (http://127.0.0.1:8080)
	@$(TSX) scripts/web.ts

visit-link: install ## print a signed visit link for one patient (PATIENT=demo-maria; ARGS="--days 3"); needs VISIT_LINK_SECRET
	@$(TSX) scripts/visit-link.ts $(PATIENT) $(ARGS)

seed: install ## load the demo patients and appointments into DATABASE_PATH
	@$(TSX) scripts/seed.ts

setup-sip: install ## create or update the trunks and dispatch rule of sip_config/ in LiveKit (ARGS=--dry-run)
	@$(TSX) scripts/setup-sip.ts $(ARGS)

list-sip-trunks: install ## the SIP trunks LiveKit holds (ARGS=--json)
	@$(TSX) scripts/list-sip.ts trunks $(ARGS)

list-sip-dispatch: install ## the SIP dispatch rules LiveKit holds (ARGS=--json)
	@$(TSX) scripts/list-sip.ts dispatch $(ARGS)

typecheck: install ## TypeScript, strict
	npm run typecheck

test-unit: install ## unit tests only, no servers (same as npm test)
	npx vitest run --project unit

test-e2e: install stack-up ## end-to-end tests on the local stack
	npx vitest run --project e2e

REPORTS := .stack/reports

test: install typecheck stack-up ## everything: typecheck, unit tests, end-to-end tests on the local stack
	@mkdir -p $(REPORTS)
	npx vitest run --project unit --reporter=default --reporter=json --outputFile.json=$(REPORTS)/unit.json
	@# The summary (with the tests that passed only on their retry) is printed whether e2e passed or not.
	npx vitest run --project e2e --reporter=default --reporter=json --outputFile.json=$(REPORTS)/e2e.json; \
	  status=$$?; node scripts/test-summary.mjs $(REPORTS)/unit.json $(REPORTS)/e2e.json; exit $$status
	node --import tsx devtools/check-logs.ts
