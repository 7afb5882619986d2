"""No wrong door: tell callers which other organisation handles their question.

``directory`` holds the curated organisations (``content/national/organisations.yaml``),
``catalogue`` imports the official UPL product list, ``resolve`` decides on a referral.
"""
