"""Measuring tools: never shipped, never imported by the skill.

``tools.learner`` estimates what a device understands from the shipped samples
alone; ``tools.understanding`` runs the evaluation sets through the real skill
and grades them by what it says.
"""
