"""The bot keeps no data of its own: it is an adapter over the services of the other apps."""
