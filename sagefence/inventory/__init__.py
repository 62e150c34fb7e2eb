"""The one resource shape every source produces and every rule reads."""
