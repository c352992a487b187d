"""People who sign in to the dashboard: accounts, passwords, sessions, invites."""
