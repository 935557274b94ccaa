"""The portal's database (read-only): its rows, mapped to our bulletin fields."""
