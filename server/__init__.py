"""The Samkonsult server process: settings, app factory, data, accounts and audit."""
