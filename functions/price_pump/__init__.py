"""Live prices to the dashboards while someone watches them."""
