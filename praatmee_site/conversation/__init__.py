"""What a resident reads: the home server's current thread and sign-up state, sanitized and shaped
for display (`display`), and the one object the pages ask (`home_server.HomeServer`). No Flask here."""
