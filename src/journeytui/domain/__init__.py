"""Domain: statistics, contacts, conditions, the journey engine (no textual)."""
