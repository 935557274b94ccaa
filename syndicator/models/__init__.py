"""Plain domain types and pure value helpers that every layer shares; imports nothing above."""
