"""What the process says about itself: metrics, structured logs and health facts."""
