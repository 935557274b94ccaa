"""Our own state database: schema, migrations and the stores that read and write it."""
