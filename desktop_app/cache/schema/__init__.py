"""The cache file: where it lives (`paths`), its tables (`tables`, `state_tables`) and opening it
with its pragmas and migrations (`database`).
"""
