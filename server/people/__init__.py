"""People: staff accounts, sessions, two-factor login, passwords, patients and their identity numbers."""
