"""Route groups of the API, each a Powertools Router."""
