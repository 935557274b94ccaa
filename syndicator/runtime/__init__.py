"""The running program: the daemon, its scheduled jobs, the poll step and preflight checks."""
