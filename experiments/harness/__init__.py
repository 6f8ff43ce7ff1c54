"""archlab's Python harness: loads a candidate layer file, probes it and trains it inside a small LM.

Entry point: `python -m harness.run SPEC.json` (see run.py). The run spec and the result file are the only
contracts with the TypeScript orchestrator; their schemas live in ../../src/contracts/ and result.schema.json.
"""
