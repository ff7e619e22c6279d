"""A live consultation: room, participants, waiting room, roster and the forwarding media core."""
