"""Which bulletins go to whom, for which period: periods, audiences and digest runs."""
