"""The operator's console: accounts, sign-in and sessions, the audit log, and the use cases and
reads behind the /admin pages."""
