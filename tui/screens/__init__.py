"""One module per screen: Models, Jobs, Results."""
