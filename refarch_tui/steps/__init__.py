"""Preparation steps of the seed document: one contract (`contract`), a registry, one module per step.

Every step turns operator answers into a `StepPlan`, executes it into a `StepResult` (facts, evidence, edits,
run settings) and can later `verify` that what it recorded still holds. Steps never import Textual.
"""
