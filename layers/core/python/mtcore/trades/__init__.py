"""Trade requests: what a caller asked for, and every step it took to a final status."""
